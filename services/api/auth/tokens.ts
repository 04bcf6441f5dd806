import jwt from 'jsonwebtoken';
import type { ActorRole } from '../../../domain/shared/decider';

export const TOKEN_ISSUER = 'microcred';
export const TOKEN_AUDIENCE = 'microcred-api';

/** The claims microcred puts in (and trusts from) an access token. */
export interface TokenClaims {
  sub: string;
  role: Exclude<ActorRole, 'system'>;
}

export function issueToken(claims: TokenClaims, secret: string, ttlSeconds: number): string {
  return jwt.sign({ role: claims.role }, secret, {
    algorithm: 'HS256',
    subject: claims.sub,
    expiresIn: ttlSeconds,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
  });
}
