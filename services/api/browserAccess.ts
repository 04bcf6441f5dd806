import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import type { Config } from '../platform/config';

/** Request headers a cross-origin page may send (the preflight's `Access-Control-Allow-Headers`). */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Correlation-Id'];
/** Response headers such a page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['Retry-After', 'X-Correlation-Id'];
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * CORS for the origins in CORS_ORIGINS and no others: a request from any other origin (or
 * without one) gets no `Access-Control-Allow-Origin`, so a browser will not hand the answer to
 * the page; a preflight from it falls through to the router (204 with `Allow`, no CORS headers).
 * No credentials mode: the API takes a bearer token, not cookies.
 */
export function corsFor(config: Pick<Config, 'CORS_ORIGINS'>): Middleware {
  const allowed = new Set(config.CORS_ORIGINS);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: CORS_ALLOWED_METHODS,
    allowHeaders: CORS_ALLOWED_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
}

/**
 * The usual security headers (helmet's, nosniff and X-Frame-Options: DENY among them) with a
 * Content-Security-Policy that the API's JSON cannot weaken and `/docs` still renders under:
 * swagger-ui's scripts and styles are served from this origin (its start-up script too, so no
 * inline script is needed), it sets inline styles and data: images, and fetches
 * `/openapi.json` from this origin. Nobody may frame any page (frame-ancestors 'none').
 * `upgrade-insecure-requests` is left out: the app cannot know whether a proxy in front of it
 * speaks https, and on plain http it would break the docs' assets.
 */
export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
  });
}
