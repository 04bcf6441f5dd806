import type { Middleware } from 'koa';
import ratelimit from 'koa-ratelimit';
import { RateLimitedError } from '../platform/errors';

const WINDOW_MS = 60_000;

/** koa-ratelimit's memory driver keeps one entry per caller ever seen; `reset` is in epoch seconds. */
type Counters = Map<string, { reset: number }>;

/** Drops the counters whose window has ended (the driver would start those afresh anyway). */
export function sweepExpired(counters: Counters, nowMs: number): number {
  let swept = 0;
  for (const [key, entry] of counters) {
    if (entry.reset * 1000 < nowMs) {
      counters.delete(key);
      swept++;
    }
  }
  return swept;
}

/**
 * Per-caller request budget (per user when signed in, else per IP), answered 429 with
 * Retry-After in the contract's error shape. The counters live in this process; with several
 * API replicas each enforces its own budget (a shared driver, e.g. Redis, would make it global).
 * Expired counters are swept once a window, so memory follows the callers of the last minute.
 */
export function rateLimit(perMinute: number): Middleware {
  const counters: Counters = new Map();
  let lastSweep = Date.now();
  const limiter = ratelimit({
    driver: 'memory',
    db: counters,
    duration: WINDOW_MS,
    max: perMinute,
    id: (ctx) => {
      const user = ctx.state.user as { sub?: string } | undefined;
      return user?.sub ? `user:${user.sub}` : `ip:${ctx.ip}`;
    },
    headers: { remaining: 'RateLimit-Remaining', reset: 'RateLimit-Reset', total: 'RateLimit-Limit' },
  });
  return async (ctx, next) => {
    const now = Date.now();
    if (now - lastSweep >= WINDOW_MS) {
      lastSweep = now;
      sweepExpired(counters, now);
    }
    await limiter(ctx, next);
    const limited = ctx.state.rateLimit as { after: number } | undefined;
    if (limited) throw new RateLimitedError(Math.max(1, limited.after));
  };
}
