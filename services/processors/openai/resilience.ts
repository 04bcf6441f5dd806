import { performance } from 'node:perf_hooks';
import CircuitBreaker from 'opossum';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/**
 * Resilience for calls to a paid provider (OpenAI chat completions and embeddings): a retry
 * policy (exponential backoff with jitter, `Retry-After` honoured, non-retryable failures fail at
 * once) and a circuit breaker (opossum) that opens after N consecutive failed calls.
 *
 * The SDK's own retries are switched off (`maxRetries: 0`): this policy replaces them, so that
 * one place decides what is retried, how long we wait and when we give up.
 */

/** Why one attempt failed. */
export type AttemptFailureKind =
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection'
  | 'client_error'
  | 'malformed_reply'
  | 'schema_violation'
  | 'invalid_band'
  | 'invented_quote'
  | 'missing_evidence'
  | 'truncated'
  | 'refusal'
  | 'invalid_embedding'
  | 'unexpected';

/** One failed attempt. `retryable` says whether another attempt may succeed. */
export class ProviderAttemptError extends Error {
  readonly status: number | undefined;
  /** The wait the provider asked for (`retry-after-ms` / `Retry-After`), if any. */
  readonly retryAfterMs: number | undefined;
  /** Tokens the attempt consumed (a reply that came back but was unusable is still billed). */
  readonly usage: TokenUsage | undefined;

  constructor(
    readonly kind: AttemptFailureKind,
    message: string,
    readonly retryable: boolean,
    extra: { status?: number; retryAfterMs?: number; usage?: TokenUsage; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ProviderAttemptError';
    this.status = extra.status;
    this.retryAfterMs = extra.retryAfterMs;
    this.usage = extra.usage;
  }
}

export interface TokenUsage {
  tokens_in: number;
  tokens_out: number;
}

/** Every attempt failed, or one failed in a way that retrying cannot fix. */
export class ProviderCallFailedError extends Error {
  readonly code = 'PROVIDER_CALL_FAILED';
  constructor(
    readonly provider: string,
    readonly attempts: number,
    /** The failures, in order (one per attempt). */
    readonly failures: ProviderAttemptError[],
    /** Tokens consumed by the failed attempts (billed even though no result came of them). */
    readonly usage: TokenUsage,
  ) {
    const last = failures[failures.length - 1];
    super(
      `${provider}: gave up after ${attempts} attempt(s)` +
        (last ? ` (last: ${last.kind}${last.status ? ` ${last.status}` : ''}: ${last.message})` : ''),
      last ? { cause: last } : undefined,
    );
    this.name = 'ProviderCallFailedError';
  }

  get lastFailure(): ProviderAttemptError | undefined {
    return this.failures[this.failures.length - 1];
  }
}

/** The breaker is open (or half-open with its probe in flight): nothing was sent. Fall back. */
export class CircuitOpenError extends Error {
  readonly code = 'CIRCUIT_OPEN';
  constructor(readonly provider: string) {
    super(`${provider}: circuit open after consecutive failures; not calling the provider`);
    this.name = 'CircuitOpenError';
  }
}

/** The caller's AbortSignal fired; the call was abandoned. */
export class ProviderAbortedError extends Error {
  readonly code = 'PROVIDER_CALL_ABORTED';
  constructor(provider: string, reason?: unknown) {
    super(`${provider}: call aborted by the caller`, reason === undefined ? undefined : { cause: reason });
    this.name = 'ProviderAbortedError';
  }
}

// ---------------------------------------------------------------------------------------------
// Classifying SDK errors

/** The wait a response asks for: `retry-after-ms` (milliseconds) or `Retry-After` (seconds or a date). */
export function retryAfterMsFrom(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get('retry-after');
  if (ra !== null && ra.trim() !== '') {
    const seconds = Number(ra);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/**
 * Maps whatever an attempt threw to a ProviderAttemptError (aborts are handled by the caller).
 * A connection error raised once the attempt's timeout had run out is a timeout: the SDK tells
 * them apart by the abort error's name, which it loses when that error comes from another realm
 * (as under jest), so the elapsed time decides too.
 */
export function classifyProviderError(
  err: unknown,
  attempt: { elapsedMs?: number; timeoutMs?: number | undefined } = {},
): ProviderAttemptError {
  if (err instanceof ProviderAttemptError) return err;
  const timedOut =
    attempt.timeoutMs !== undefined && attempt.elapsedMs !== undefined && attempt.elapsedMs >= attempt.timeoutMs;
  if (err instanceof APIConnectionTimeoutError || (err instanceof APIConnectionError && timedOut)) {
    return new ProviderAttemptError('timeout', 'request timed out', true, { cause: err });
  }
  if (err instanceof APIConnectionError) {
    return new ProviderAttemptError('connection', `connection error: ${err.message}`, true, { cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const retryAfterMs = retryAfterMsFrom(err.headers);
    const extra = { status, cause: err, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    if (status === 429) return new ProviderAttemptError('rate_limited', err.message, true, extra);
    if (status >= 500) return new ProviderAttemptError('server_error', err.message, true, extra);
    // 408 Request Timeout and 409 Conflict (OpenAI's "retry your request") are transient.
    if (status === 408 || status === 409) return new ProviderAttemptError('server_error', err.message, true, extra);
    return new ProviderAttemptError('client_error', err.message, false, extra);
  }
  return new ProviderAttemptError('unexpected', err instanceof Error ? err.message : String(err), false, {
    cause: err,
  });
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return err instanceof APIUserAbortError || err instanceof ProviderAbortedError || signal?.aborted === true;
}

// ---------------------------------------------------------------------------------------------
// Retries

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts: number;
  /** Backoff base: the wait before retry k is about base × 2^(k−1), jittered. Default 100 ms. */
  baseDelayMs: number;
  /** Cap on any single wait, backoff or `Retry-After`. Default 10 000 ms. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000 };

/** Validated policy from partial options (throws RangeError on nonsense). */
export function retryPolicy(options: Partial<RetryPolicy>): RetryPolicy {
  const p = { ...defaultRetryPolicy, ...dropUndefined(options) };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1)
    throw new RangeError('maxAttempts must be an integer >= 1');
  if (!(p.baseDelayMs >= 0)) throw new RangeError('baseDelayMs must be >= 0');
  if (!(p.maxDelayMs >= 0)) throw new RangeError('maxDelayMs must be >= 0');
  return p;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The wait before the next attempt after `failedAttempt` (1-based) failed: the provider's
 * `Retry-After` when it gave one, else "equal jitter" exponential backoff (half fixed, half
 * random, so waits grow but clients do not retry in lockstep); both capped by `maxDelayMs`.
 */
export function backoffDelayMs(
  failedAttempt: number,
  policy: RetryPolicy,
  failure: ProviderAttemptError,
  random: () => number = Math.random,
): number {
  if (failure.retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, failure.retryAfterMs);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export interface RetryEvent {
  attempt: number;
  failure: ProviderAttemptError;
  waitMs: number;
}

export interface RetryOptions {
  provider: string;
  policy: RetryPolicy;
  signal?: AbortSignal | undefined;
  /** The per-attempt timeout, to recognise timeouts (see classifyProviderError). */
  timeoutMs?: number | undefined;
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

/**
 * Runs `attempt(n)` until it succeeds, fails in a non-retryable way, or `maxAttempts` is reached.
 * Rejects with ProviderCallFailedError (all failures attached) or ProviderAbortedError.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
): Promise<{ value: T; attempts: number; failures: ProviderAttemptError[] }> {
  const { policy, signal, provider } = options;
  const failures: ProviderAttemptError[] = [];
  for (let n = 1; ; n += 1) {
    if (signal?.aborted) throw new ProviderAbortedError(provider, signal.reason);
    const started = performance.now();
    try {
      return { value: await attempt(n), attempts: n, failures };
    } catch (err) {
      if (isAbort(err, signal)) throw new ProviderAbortedError(provider, signal?.reason ?? err);
      const failure = classifyProviderError(err, {
        elapsedMs: performance.now() - started,
        timeoutMs: options.timeoutMs,
      });
      failures.push(failure);
      if (!failure.retryable || n >= policy.maxAttempts) {
        throw new ProviderCallFailedError(provider, n, failures, sumUsage(failures));
      }
      const waitMs = backoffDelayMs(n, policy, failure, options.random);
      options.onRetry?.({ attempt: n, failure, waitMs });
      await sleep(waitMs, signal, provider);
    }
  }
}

export function sumUsage(failures: readonly ProviderAttemptError[]): TokenUsage {
  return failures.reduce(
    (acc, f) => ({
      tokens_in: acc.tokens_in + (f.usage?.tokens_in ?? 0),
      tokens_out: acc.tokens_out + (f.usage?.tokens_out ?? 0),
    }),
    { tokens_in: 0, tokens_out: 0 },
  );
}

/** Waits `ms`, or rejects with ProviderAbortedError as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, provider: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProviderAbortedError(provider, signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderAbortedError(provider, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failed calls that open the circuit. Default 5. */
  failureThreshold: number;
  /** How long the circuit stays open before letting one probe call through (half-open). Default 30 000 ms. */
  resetTimeoutMs: number;
}

export const defaultBreakerOptions: BreakerOptions = { failureThreshold: 5, resetTimeoutMs: 30_000 };

type Thunk = () => Promise<unknown>;

/**
 * An opossum breaker whose opening rule is "N consecutive failed calls" rather than opossum's
 * default error percentage over a rolling window: opossum's own threshold is disabled
 * (`volumeThreshold` unreachable), we count consecutive failures from its `failure`/`success`
 * events and open it ourselves. Opossum does the rest: fail fast while open, one probe when
 * half-open after `resetTimeout`, close on the probe's success, reopen on its failure.
 * A call the caller aborted is not counted (it says nothing about the provider), except that an
 * aborted half-open probe reopens the circuit.
 */
export class ConsecutiveFailureBreaker {
  private readonly breaker: CircuitBreaker<[Thunk], unknown>;
  private consecutiveFailures = 0;

  constructor(
    readonly provider: string,
    options: Partial<BreakerOptions> = {},
    hooks: { onStateChange?: (state: BreakerState) => void } = {},
  ) {
    const { failureThreshold, resetTimeoutMs } = { ...defaultBreakerOptions, ...dropUndefined(options) };
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
      throw new RangeError('failureThreshold must be an integer >= 1');
    }
    this.breaker = new CircuitBreaker<[Thunk], unknown>((fn: Thunk) => fn(), {
      name: provider,
      timeout: false, // attempts have their own timeout; the whole call includes retry waits
      resetTimeout: resetTimeoutMs,
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      enableSnapshots: false,
    });
    this.breaker.on('failure', (err: unknown) => {
      if (err instanceof ProviderAbortedError) return;
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= failureThreshold && this.breaker.closed) this.breaker.open();
    });
    this.breaker.on('success', () => {
      this.consecutiveFailures = 0;
    });
    this.breaker.on('open', () => hooks.onStateChange?.('open'));
    this.breaker.on('halfOpen', () => hooks.onStateChange?.('half_open'));
    this.breaker.on('close', () => {
      this.consecutiveFailures = 0;
      hooks.onStateChange?.('closed');
    });
  }

  /** Runs `fn` through the breaker; rejects with CircuitOpenError without running it while open. */
  async fire<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breaker.fire(fn)) as T;
    } catch (err) {
      if (err instanceof Error && (err as { code?: unknown }).code === 'EOPENBREAKER') {
        throw new CircuitOpenError(this.provider);
      }
      throw err;
    }
  }

  state(): BreakerState {
    if (this.breaker.closed) return 'closed';
    if (this.breaker.halfOpen) return 'half_open';
    return 'open';
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
