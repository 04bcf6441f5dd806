import { ConfigError, loadConfig } from '../../platform/config';
import { webhookProcessorOptions, webhookRetryPolicy } from './startWebhookDeliveries';
import { formatDuration, maxAttemptsOf, parseRetryAfter, parseRetrySchedule, retryDelayMs } from './retryPolicy';

describe('the retry schedule', () => {
  test('is read from durations with units', () => {
    expect(parseRetrySchedule('5s,5m,30m,2h,5h,10h,10h')).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(parseRetrySchedule(' 50ms, 1s ,1d')).toEqual([50, 1000, 86_400_000]);
    expect(() => parseRetrySchedule('5s,,5m')).toThrow(/not a duration/);
    expect(() => parseRetrySchedule('5 seconds')).toThrow(/not a duration/);
    expect(parseRetrySchedule('5s,5m,30m,2h,5h,10h,10h').map(formatDuration).join(',')).toBe('5s,5m,30m,2h,5h,10h,10h');
    expect(formatDuration(250)).toBe('250ms');
  });

  const policy = { schedule: [1000, 60_000, 600_000], retryAfterMaxMs: 120_000 };

  test('gives one first attempt plus one per step, each wait within ±20% of its step', () => {
    expect(maxAttemptsOf(policy)).toBe(4);
    expect(retryDelayMs(policy, 1, undefined, () => 0)).toBe(800);
    expect(retryDelayMs(policy, 1, undefined, () => 1)).toBe(1200);
    expect(retryDelayMs(policy, 2, undefined, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(policy, 3, undefined, () => 0.5)).toBe(600_000);
    expect(retryDelayMs(policy, 4)).toBeUndefined();
  });

  test('waits at least what Retry-After asks, up to the cap', () => {
    expect(retryDelayMs(policy, 1, 30_000, () => 0.5)).toBe(30_000);
    expect(retryDelayMs(policy, 1, 10 * 3_600_000, () => 0.5)).toBe(120_000);
    // Never sooner than the schedule: Retry-After is a floor.
    expect(retryDelayMs(policy, 2, 1000, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(policy, 4, 1000)).toBeUndefined();
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  test('as delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  test('as an HTTP date', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0);
  });
  test('anything else is no instruction', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('2026', now)).toBe(2_026_000);
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
  });
});

describe('the WEBHOOK_* settings', () => {
  test('default to the Standard Webhooks style schedule: eight attempts over about 27.5 hours', () => {
    const config = loadConfig({});
    const policy = webhookRetryPolicy(config);
    expect(policy.schedule.map(formatDuration)).toEqual(['5s', '5m', '30m', '2h', '5h', '10h', '10h']);
    expect(policy.schedule.reduce((a, b) => a + b, 0) / 3_600_000).toBeCloseTo(27.58, 1);
    expect(webhookProcessorOptions(config)).toMatchObject({
      concurrency: 16,
      laneConcurrency: 4,
      maxAttempts: 8,
      attemptTimeoutMs: 17_000,
      leaseMs: 22_000,
    });
  });

  test('refuse a schedule that is not a list of durations, and out-of-range numbers', () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5 seconds' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '' })).not.toThrow(); // empty: the default
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '10' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION: '0' })).toThrow(
      /WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION/,
    );
    expect(webhookRetryPolicy(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '100ms, 1s' })).schedule).toEqual([100, 1000]);
  });
});
