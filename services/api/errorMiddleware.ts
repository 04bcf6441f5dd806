import type { Middleware } from 'koa';
import { DomainError } from '../../domain/shared/errors';
import { AppError, DependencyUnavailableError, RateLimitedError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { isDatabaseUnavailable } from '../platform/postgres/pool';
import { MethodNotAllowedError } from './methodNotAllowed';

/** HTTP status of each domain error kind; also used for rejections that arrive in decider replies. */
export const DOMAIN_KIND_STATUS: Record<DomainError['kind'], number> = {
  validation: 422,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
};

/** Codes for Koa's own HTTP errors (`ctx.throw(status)`); any other 4xx is BAD_REQUEST. */
const HTTP_ERROR_CODES: Record<number, string> = {
  401: 'UNAUTHORIZED',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
};

/**
 * The one place errors become HTTP: `{error_code, message}` with the contract's status.
 * Anything unexpected is logged with its stack and answered as a 500 without internals.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error_code: 'ROUTE_NOT_FOUND', message: `No route for ${ctx.method} ${ctx.path}` };
      }
    } catch (thrown) {
      let err = thrown;
      if (isDatabaseUnavailable(thrown)) {
        logger.warn({ err: thrown, path: ctx.path, method: ctx.method }, 'postgres unavailable');
        err = new DependencyUnavailableError('postgres', 'the read models are unavailable; retry later');
      }
      if (err instanceof AppError) {
        ctx.status = err.status;
        ctx.body = { error_code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
        if (err instanceof RateLimitedError || err instanceof DependencyUnavailableError) {
          ctx.set('Retry-After', String(err.retryAfterSeconds));
        }
        if (err instanceof MethodNotAllowedError) ctx.set('Allow', err.allow.join(', '));
        return;
      }
      if (err instanceof DomainError) {
        ctx.status = DOMAIN_KIND_STATUS[err.kind];
        ctx.body = { error_code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
        return;
      }
      // Koa's own HTTP errors (e.g. body too large, malformed JSON) carry an expose flag and a status.
      const httpErr = err as { status?: number; expose?: boolean; message?: string };
      if (typeof httpErr.status === 'number' && httpErr.status >= 400 && httpErr.status < 500) {
        ctx.status = httpErr.status;
        ctx.body = {
          error_code: HTTP_ERROR_CODES[httpErr.status] ?? 'BAD_REQUEST',
          message: httpErr.expose && httpErr.message ? httpErr.message : 'Bad request',
        };
        return;
      }
      logger.error({ err, path: ctx.path, method: ctx.method }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error_code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; it has been logged' };
    }
  };
}
