import { v5, validate, version } from 'uuid';

/**
 * Deterministic ids. Aggregates whose identity is a natural key (a user's email, a client's
 * idempotency key) get a UUIDv5 of that key in microcred's namespace, so the single writer of
 * the stream enforces uniqueness and a retried create cannot produce a second aggregate.
 *
 * The namespace is fixed forever: it is `uuidv5('microcred.local', DNS namespace)`. Changing
 * it would change every derived id.
 */
export const MICROCRED_NAMESPACE = '3d1190fe-a421-5eea-bc55-dade280d0a8b';

/** Trim and lowercase. Used for both the user id and the stored email. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `uuidv5("<kind>:<key>")` in the microcred namespace. `kind` keeps id spaces apart. */
export function idFromKey(kind: string, key: string): string {
  if (kind.length === 0) throw new Error('idFromKey: kind must not be empty');
  return v5(`${kind}:${key}`, MICROCRED_NAMESPACE);
}

/** The user id of an email: `idFromKey('user', normaliseEmail(email))`. */
export function userIdForEmail(email: string): string {
  return idFromKey('user', normaliseEmail(email));
}

/**
 * The id of an aggregate created by a command: derived from the client's Idempotency-Key when
 * it sent one, else from the command id, so a retried create lands on the same stream.
 */
export function aggregateIdForCreate(kind: string, idempotencyKeyOrCommandId: string): string {
  return idFromKey(kind, idempotencyKeyOrCommandId);
}

/** Any RFC 4122 UUID (v1–v8), lowercase or uppercase. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && validate(value) && version(value) >= 1;
}
