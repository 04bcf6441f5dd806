import { performance } from 'node:perf_hooks';
import type OpenAI from 'openai';
import { createOpenAiClient, type OpenAiCallOptions } from './client';
import { costCents, defaultPrices, parsePriceTable, type PriceTable } from './pricing';
import {
  ConsecutiveFailureBreaker,
  ProviderAttemptError,
  retryPolicy,
  sumUsage,
  withRetries,
  type BreakerState,
  type RetryPolicy,
  type TokenUsage,
} from './resilience';

/**
 * One structured-output chat call, the way every LLM adapter of microcred makes it: OpenAI chat
 * completions through the `openai` SDK, our retries (backoff, Retry-After) inside a circuit
 * breaker, a reply refused, filtered or cut off treated as a failed attempt, and the reply
 * interpreted (validated) by the caller, whose `ProviderAttemptError('malformed_reply', …,
 * retryable)` asks for another attempt. Tokens are summed over every attempt (unusable
 * replies are billed too) and priced from the price table.
 */
export interface StructuredChatOptions extends OpenAiCallOptions {
  /** Cents per million tokens per model: a table or its JSON text (LLM_PRICES). Default `defaultPrices`. */
  prices?: PriceTable | string | undefined;
  /** Names the breaker and the log lines, e.g. `openai-chat`. */
  name: string;
}

export interface StructuredOutcome<T> {
  value: T;
  /** The model that answered (e.g. a dated snapshot of the one asked for). */
  model: string;
  usage: TokenUsage;
  cost_cents: number;
  /** False when the model is missing from the price table (cost_cents is then 0). */
  cost_known: boolean;
  attempts: number;
  /** Kinds of the failed attempts before the one that succeeded, in order. */
  failed_attempts: ProviderAttemptError['kind'][];
  /** The whole call, retries and waits included. */
  latency_ms: number;
  /** The successful attempt alone. */
  attempt_latency_ms: number;
}

export class StructuredChat {
  readonly timeoutMs: number;
  private readonly client: OpenAI;
  private readonly policy: RetryPolicy;
  private readonly breaker: ConsecutiveFailureBreaker;
  private readonly prices: PriceTable;
  private readonly unpricedModelsWarned = new Set<string>();

  constructor(private readonly options: StructuredChatOptions) {
    if (!options.apiKey) throw new RangeError(`${options.name} needs an API key`);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.client = createOpenAiClient({ apiKey: options.apiKey, baseURL: options.baseURL, timeoutMs: this.timeoutMs });
    this.policy = retryPolicy({
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.retryBaseMs,
      maxDelayMs: options.retryMaxWaitMs,
    });
    this.prices =
      options.prices === undefined
        ? defaultPrices
        : typeof options.prices === 'string'
          ? parsePriceTable(options.prices)
          : options.prices;
    this.breaker = new ConsecutiveFailureBreaker(
      options.name,
      { failureThreshold: options.breakerFailures, resetTimeoutMs: options.breakerResetMs },
      { onStateChange: (state) => options.logger?.warn({ breaker: options.name, state }, 'llm circuit breaker') },
    );
  }

  /**
   * Sends `body` until a reply passes `interpret` (see the class comment for failures: they
   * reject with CircuitOpenError, ProviderCallFailedError or ProviderAbortedError).
   */
  async call<T>(
    body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
    interpret: (content: string | null, usage: TokenUsage) => T,
    options: { signal?: AbortSignal | undefined; logFields?: Record<string, unknown> } = {},
  ): Promise<StructuredOutcome<T>> {
    const started = performance.now();
    const { signal } = options;
    const { value, attempts, failures } = await this.breaker.fire(() =>
      withRetries(() => this.attempt(body, interpret, signal), {
        provider: 'openai',
        policy: this.policy,
        signal,
        timeoutMs: this.timeoutMs,
        ...(this.options.random ? { random: this.options.random } : {}),
        onRetry: ({ attempt, failure, waitMs }) =>
          this.options.logger?.warn(
            { ...options.logFields, attempt, kind: failure.kind, status: failure.status, wait_ms: waitMs },
            `${this.options.name} attempt failed; retrying`,
          ),
      }),
    );
    const failedUsage = sumUsage(failures);
    const usage = {
      tokens_in: value.usage.tokens_in + failedUsage.tokens_in,
      tokens_out: value.usage.tokens_out + failedUsage.tokens_out,
    };
    const cost = costCents(this.prices, [value.model, body.model], usage);
    if (!cost.known && !this.unpricedModelsWarned.has(value.model)) {
      this.unpricedModelsWarned.add(value.model);
      this.options.logger?.warn({ model: value.model }, 'no price for this model in LLM_PRICES; cost recorded as 0');
    }
    return {
      value: value.reply,
      model: value.model,
      usage,
      cost_cents: cost.cents,
      cost_known: cost.known,
      attempts,
      failed_attempts: failures.map((f) => f.kind),
      latency_ms: Math.round(performance.now() - started),
      attempt_latency_ms: Math.round(value.latencyMs),
    };
  }

  /** For health checks and metrics. */
  breakerState(): BreakerState {
    return this.breaker.state();
  }

  close(): void {
    this.breaker.shutdown();
  }

  private async attempt<T>(
    body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming,
    interpret: (content: string | null, usage: TokenUsage) => T,
    signal: AbortSignal | undefined,
  ): Promise<{ reply: T; model: string; usage: TokenUsage; latencyMs: number }> {
    const started = performance.now();
    const completion = await this.client.chat.completions.create(body, signal ? { signal } : {});
    const latencyMs = performance.now() - started;
    const usage: TokenUsage = {
      tokens_in: completion.usage?.prompt_tokens ?? 0,
      tokens_out: completion.usage?.completion_tokens ?? 0,
    };
    const choice = completion.choices?.[0];
    if (!choice) throw new ProviderAttemptError('malformed_reply', 'reply has no choices', true, { usage });
    if (choice.message.refusal) {
      throw new ProviderAttemptError('refusal', 'the model refused to answer', false, { usage });
    }
    if (choice.finish_reason === 'content_filter') {
      throw new ProviderAttemptError('refusal', 'the reply was stopped by a content filter', false, { usage });
    }
    if (choice.finish_reason === 'length') {
      throw new ProviderAttemptError('truncated', 'the reply was cut off at the token limit', true, { usage });
    }
    const reply = interpret(choice.message.content, usage);
    return { reply, model: completion.model || body.model, usage, latencyMs };
  }
}
