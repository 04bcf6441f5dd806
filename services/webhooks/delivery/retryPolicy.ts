/**
 * When a failed delivery is tried again. The schedule is a list of waits, one per retry (the
 * Standard Webhooks / Svix style: `5s,5m,30m,2h,5h,10h,10h`), so a delivery gets one first
 * attempt plus one per step, then is dead-lettered. Each wait is jittered (±20%) so that a
 * partner coming back is not hit by every queued delivery in the same second. A partner that
 * says when to come back (`Retry-After` on 429 or 503) is not retried sooner than that, up to a
 * cap: a partner cannot park a delivery for days.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const STEP = /^(\d+)(ms|s|m|h|d)$/;

/** A comma-separated list of durations (`250ms`, `5s`, `5m`, `2h`, `1d`) as milliseconds. */
export function parseRetrySchedule(text: string): number[] {
  const steps = text.split(',').map((s) => s.trim());
  return steps.map((step) => {
    const m = STEP.exec(step);
    if (!m) throw new Error(`"${step}" is not a duration like 250ms, 5s, 5m, 2h or 1d`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  });
}

/** The same list, written back the way it is configured (for documentation and logs). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit]! && ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

export interface RetryPolicy {
  /** Waits before the 2nd, 3rd… attempt. */
  schedule: readonly number[];
  /** The longest wait a Retry-After may ask for. */
  retryAfterMaxMs: number;
}

/** First attempt plus one per step of the schedule. */
export const maxAttemptsOf = (policy: RetryPolicy): number => policy.schedule.length + 1;

/**
 * The wait after attempt `attempt` (1-based) failed, or undefined when it was the last.
 * `retryAfterMs` is what the partner asked for, if anything.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number | undefined {
  const step = policy.schedule[attempt - 1];
  if (step === undefined) return undefined;
  const jittered = Math.round(step * (0.8 + 0.4 * random()));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.retryAfterMaxMs));
}

/**
 * A `Retry-After` header as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110
 * §10.2.3). Anything else, or a date in the past, is no instruction (undefined / 0).
 */
export function parseRetryAfter(value: string | undefined | null, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a weekday and GMT; Date.parse alone would take "5" or "2026".
  if (!/^[A-Za-z]{3},? .*GMT$/.test(text) && !/^[A-Za-z]+day, /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
