import type { Middleware } from 'koa';
import ratelimit from 'koa-ratelimit';
import { RateLimitedError } from '../platform/errors';

/**
 * Per-caller request budget (per user when signed in, else per IP), answered 429 with
 * Retry-After in the contract's error shape. The counters live in this process; with several
 * API replicas each enforces its own budget (a shared driver, e.g. Redis, would make it global).
 */
export function rateLimit(perMinute: number): Middleware {
  const limiter = ratelimit({
    driver: 'memory',
    db: new Map(),
    duration: 60_000,
    max: perMinute,
    id: (ctx) => {
      const user = ctx.state.user as { sub?: string } | undefined;
      return user?.sub ? `user:${user.sub}` : `ip:${ctx.ip}`;
    },
    headers: { remaining: 'RateLimit-Remaining', reset: 'RateLimit-Reset', total: 'RateLimit-Limit' },
  });
  return async (ctx, next) => {
    await limiter(ctx, next);
    const limited = ctx.state.rateLimit as { after: number } | undefined;
    if (limited) throw new RateLimitedError(Math.max(1, limited.after));
  };
}
