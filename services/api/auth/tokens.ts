import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { ActorRole } from '../../../domain/shared/decider';

export const TOKEN_ISSUER = 'microcred';
export const TOKEN_AUDIENCE = 'microcred-api';

/** The claims microcred puts in (and trusts from) an access token. */
export interface TokenClaims {
  sub: string;
  role: Exclude<ActorRole, 'system'>;
}

const keys = new Map<string, KeyObject>();

/**
 * The HMAC key as a KeyObject, made once per secret. Handed a string, jsonwebtoken first tries
 * to parse it as a PEM public key on every call and builds the key from the exception: the
 * costliest step of each authenticated request.
 */
export function signingKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

export function issueToken(claims: TokenClaims, secret: string, ttlSeconds: number): string {
  return jwt.sign({ role: claims.role }, signingKey(secret), {
    algorithm: 'HS256',
    subject: claims.sub,
    expiresIn: ttlSeconds,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
  });
}
