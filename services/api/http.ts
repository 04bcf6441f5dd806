import type { Context } from 'koa';
import { isUuid } from '../../domain/shared/ids';
import { NotFoundError } from '../platform/errors';

/** A path id; anything that is not a UUID cannot name one of ours, so it is simply not found. */
export function idParam(ctx: Context, name: string): string {
  const value = (ctx.params as Record<string, string | undefined>)[name];
  if (!value || !isUuid(value))
    throw new NotFoundError(`No resource with ${name} ${JSON.stringify(value ?? '')}`, 'NOT_FOUND');
  return value.toLowerCase();
}

export async function orNotFound<T>(lookup: Promise<T | undefined | null>, message: string, code: string): Promise<T> {
  const found = await lookup;
  if (found === undefined || found === null) throw new NotFoundError(message, code);
  return found;
}
