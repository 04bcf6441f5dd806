import type OpenAI from 'openai';
import { createOpenAiClient, type OpenAiCallOptions } from '../openai/client';
import {
  ConsecutiveFailureBreaker,
  ProviderAttemptError,
  retryPolicy,
  withRetries,
  type BreakerState,
  type RetryPolicy,
} from '../openai/resilience';
import { EMBEDDING_DIMENSIONS, type EmbeddingBatch, type Embeddings } from './embeddings';
import { l2Norm } from './vectors';

/**
 * The Embeddings port over OpenAI's embeddings API (`text-embedding-3-small` asked for 384
 * dimensions by default, to sit beside the local MiniLM vectors), through the `openai` SDK with
 * the same retry policy and circuit breaker as essay scoring.
 *
 * Texts go in batches of at most `maxBatchSize` (OpenAI's limit is 2048 inputs per request), one
 * request per batch, in order. Each text is cut to `maxInputChars` (a stand-in for the model's
 * 8191-token window, which would otherwise fail the whole request with a 400), and an empty text
 * is sent as a single space (the API refuses empty strings). Every vector is checked for the
 * expected dimension and finite values, then L2-normalised (OpenAI's already are, up to float
 * rounding; other compatible servers' may not be).
 */
export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';

export interface OpenAiEmbeddingsOptions extends OpenAiCallOptions {
  /** Default `text-embedding-3-small`. */
  model?: string | undefined;
  /** Asked of the API (`dimensions`) and checked on every vector. Default 384. */
  dimensions?: number | undefined;
  /** Send `dimensions` in the request (false for models that refuse it, e.g. ada-002). Default true. */
  sendDimensions?: boolean | undefined;
  /** Default 256 texts per request (at most 2048). */
  maxBatchSize?: number | undefined;
  /** Default 24 000 characters. */
  maxInputChars?: number | undefined;
}

export class OpenAiEmbeddings implements Embeddings {
  readonly model: string;
  readonly dimensions: number;
  private readonly timeoutMs: number;
  private readonly client: OpenAI;
  private readonly policy: RetryPolicy;
  private readonly breaker: ConsecutiveFailureBreaker;
  private readonly maxBatchSize: number;
  private readonly maxInputChars: number;

  constructor(private readonly options: OpenAiEmbeddingsOptions) {
    if (!options.apiKey) throw new RangeError('OpenAiEmbeddings needs an API key');
    this.model = options.model ?? DEFAULT_OPENAI_EMBEDDING_MODEL;
    this.dimensions = options.dimensions ?? EMBEDDING_DIMENSIONS;
    this.maxBatchSize = options.maxBatchSize ?? 256;
    if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1 || this.maxBatchSize > 2048) {
      throw new RangeError('maxBatchSize must be an integer from 1 to 2048');
    }
    this.maxInputChars = options.maxInputChars ?? 24_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.client = createOpenAiClient({ apiKey: options.apiKey, baseURL: options.baseURL, timeoutMs: this.timeoutMs });
    this.policy = retryPolicy({
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.retryBaseMs,
      maxDelayMs: options.retryMaxWaitMs,
    });
    this.breaker = new ConsecutiveFailureBreaker(
      'openai-embeddings',
      { failureThreshold: options.breakerFailures, resetTimeoutMs: options.breakerResetMs },
      {
        onStateChange: (state) =>
          options.logger?.warn({ breaker: 'openai-embeddings', state }, 'embeddings circuit breaker'),
      },
    );
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<EmbeddingBatch> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatchSize) {
      const batch = texts.slice(start, start + this.maxBatchSize);
      vectors.push(...(await this.embedBatch(batch, options.signal)));
    }
    return { vectors, provider: 'openai', model: this.model, degraded: false };
  }

  breakerState(): BreakerState {
    return this.breaker.state();
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
  }

  private async embedBatch(texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const input = texts.map((t) => {
      const cut = t.length > this.maxInputChars ? t.slice(0, this.maxInputChars) : t;
      return cut.trim() === '' ? ' ' : cut;
    });
    const { value } = await this.breaker.fire(() =>
      withRetries(
        async () => {
          const response = await this.client.embeddings.create(
            {
              model: this.model,
              input,
              encoding_format: 'float',
              ...(this.options.sendDimensions === false ? {} : { dimensions: this.dimensions }),
            },
            signal ? { signal } : {},
          );
          return this.vectorsOf(response, input.length);
        },
        {
          provider: 'openai-embeddings',
          policy: this.policy,
          signal,
          timeoutMs: this.timeoutMs,
          ...(this.options.random ? { random: this.options.random } : {}),
          onRetry: ({ attempt, failure, waitMs }) =>
            this.options.logger?.warn(
              { attempt, kind: failure.kind, status: failure.status, wait_ms: waitMs, texts: texts.length },
              'openai embeddings attempt failed; retrying',
            ),
        },
      ),
    );
    return value;
  }

  private vectorsOf(response: OpenAI.CreateEmbeddingResponse, expected: number): Float32Array[] {
    const invalid = (message: string): never => {
      throw new ProviderAttemptError('invalid_embedding', message, true);
    };
    if (!Array.isArray(response.data) || response.data.length !== expected) {
      invalid(`expected ${expected} embeddings, got ${Array.isArray(response.data) ? response.data.length : 'none'}`);
    }
    const out: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(expected);
    response.data.forEach((item, position) => {
      const index = Number.isInteger(item.index) ? item.index : position;
      if (index < 0 || index >= expected || out[index]) invalid(`embedding index ${index} is out of range or repeated`);
      const raw = item.embedding as unknown as ArrayLike<number>;
      if (raw.length !== this.dimensions) {
        // Not retryable: the server answers for a different model or dimension setting.
        throw new ProviderAttemptError(
          'invalid_embedding',
          `expected ${this.dimensions} dimensions, got ${raw.length} (model ${this.model})`,
          false,
        );
      }
      const v = Float32Array.from(raw);
      const norm = l2Norm(v);
      if (!Number.isFinite(norm) || norm === 0) invalid(`embedding ${index} is zero or not finite`);
      for (let i = 0; i < v.length; i += 1) v[i] = v[i]! / norm;
      out[index] = v;
    });
    return out as Float32Array[];
  }
}
