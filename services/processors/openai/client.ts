import OpenAI from 'openai';
import type { Logger } from '../../platform/logger';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * The one way microcred makes an OpenAI SDK client: our retry policy and circuit breaker
 * (`resilience.ts`) replace the SDK's own retries, and the SDK never logs (it could log a key).
 */
export function createOpenAiClient(options: {
  apiKey: string;
  baseURL?: string | undefined;
  timeoutMs: number;
}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? DEFAULT_OPENAI_BASE_URL,
    maxRetries: 0,
    timeout: options.timeoutMs,
    logLevel: 'off',
  });
}

/** What every OpenAI adapter takes: where, how long, how to retry, when to stop calling. */
export interface OpenAiCallOptions {
  /** Never logged. */
  apiKey: string;
  /** Default `https://api.openai.com/v1`; any OpenAI-compatible server works. */
  baseURL?: string | undefined;
  /** Per attempt. Default 30 000 ms. */
  timeoutMs?: number | undefined;
  /** Attempts per call, the first included. Default 5. */
  maxAttempts?: number | undefined;
  /** Backoff base. Default 100 ms. */
  retryBaseMs?: number | undefined;
  /** Cap on any wait between attempts (backoff or Retry-After). Default 10 000 ms. */
  retryMaxWaitMs?: number | undefined;
  /** Consecutive failed calls that open the circuit. Default 5. */
  breakerFailures?: number | undefined;
  /** Time the circuit stays open before a probe. Default 30 000 ms. */
  breakerResetMs?: number | undefined;
  logger?: Logger | undefined;
  /** Jitter source (tests). */
  random?: (() => number) | undefined;
}
