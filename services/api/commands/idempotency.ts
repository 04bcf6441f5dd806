import type { Context } from 'koa';
import { v5 as uuidv5 } from 'uuid';
import { BadRequestError } from '../../platform/errors';

const IDEMPOTENCY_NAMESPACE = '3b2f6a51-4d1c-4f0e-8c7a-9e5d2b1f0c64';

/** The client's Idempotency-Key header, if any (validated: 1..255 visible ASCII characters). */
export function idempotencyKeyOf(ctx: Context): string | undefined {
  const key = ctx.get('idempotency-key');
  if (key === '') return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new BadRequestError(
      'Idempotency-Key must be 1 to 255 visible ASCII characters',
      undefined,
      'INVALID_IDEMPOTENCY_KEY',
    );
  }
  return key;
}

/**
 * A deterministic id from (caller, operation scope, key): the same retry maps to the same
 * command id (so the decider returns the first outcome) and the same new aggregate id.
 */
export function idFromKey(callerId: string, scope: string, key: string, purpose: 'command' | 'aggregate'): string {
  return uuidv5(`${purpose}\u0000${callerId}\u0000${scope}\u0000${key}`, IDEMPOTENCY_NAMESPACE);
}
