import OpenAI from 'openai';

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
