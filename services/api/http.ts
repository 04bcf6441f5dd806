import type { Context } from 'koa';
import { isUuid } from '../../domain/shared/ids';
import { BadRequestError, NotFoundError } from '../platform/errors';

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

/** A whole-number query parameter from `min` to `max` (`fallback` when absent); else 400 INVALID_QUERY. */
export function intParam(raw: unknown, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BadRequestError(`${name} must be a whole number from ${min} to ${max}`, undefined, 'INVALID_QUERY');
  }
  return n;
}

/** A boolean query parameter (`true`/`false`, absent: false); else 400 INVALID_QUERY. */
export function boolParam(raw: unknown, name: string): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new BadRequestError(`${name} must be true or false`, undefined, 'INVALID_QUERY');
}
