import type { Logger } from '../../platform/logger';
import type { EmbeddingBatch, Embeddings } from './embeddings';
import { LexicalEmbeddings } from './lexicalEmbeddings';
import { EmbeddingsQueueFullError, MiniLmEmbeddings } from './miniLmEmbeddings';

/** Every provider of the chain failed; `errors` holds each one's reason, in chain order. */
export class AllEmbeddingsFailedError extends Error {
  readonly code = 'EMBEDDINGS_UNAVAILABLE';
  constructor(readonly errors: unknown[]) {
    super(
      `every embeddings provider failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`,
    );
    this.name = 'AllEmbeddingsFailedError';
  }
}

type FallbackLogger = Pick<Logger, 'warn'>;

/**
 * Tries the adapters in order; the first that answers wins (its batch says which provider and
 * whether it is degraded). A failing adapter falls through to the next; an aborted call does not.
 * All texts of one call come from one provider, so their vectors are comparable.
 */
export class FallbackEmbeddings implements Embeddings {
  private readonly adapters: readonly Embeddings[];

  constructor(
    adapters: readonly Embeddings[],
    private readonly logger?: FallbackLogger,
  ) {
    if (adapters.length === 0) throw new RangeError('FallbackEmbeddings needs at least one adapter');
    this.adapters = [...adapters];
    // Passages must fit the smallest window of the chain, whichever adapter ends up answering.
    const counters = this.adapters.filter(
      (a): a is Embeddings & Required<Pick<Embeddings, 'countTokens' | 'maxTokens'>> =>
        typeof a.countTokens === 'function' && typeof a.maxTokens === 'number',
    );
    const narrowest = counters.sort((a, b) => a.maxTokens - b.maxTokens)[0];
    if (narrowest) {
      this.maxTokens = narrowest.maxTokens;
      this.countTokens = (text: string) => narrowest.countTokens(text);
    }
  }

  /** The narrowest window of the chain, when an adapter knows its own (see `embedPassages`). */
  readonly maxTokens?: number;
  readonly countTokens?: (text: string) => number;

  async embed(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingBatch> {
    const errors: unknown[] = [];
    for (const adapter of this.adapters) {
      options?.signal?.throwIfAborted();
      try {
        return await adapter.embed(texts, options);
      } catch (error) {
        if (options?.signal?.aborted) throw error;
        // A full queue is backpressure, not an outage: the caller retries later, rather than
        // quietly getting degraded (lexical) vectors under load.
        if (error instanceof EmbeddingsQueueFullError) throw error;
        errors.push(error);
        this.logger?.warn(
          { err: error, adapter: adapter.constructor.name, texts: texts.length },
          'embeddings provider failed, trying the next one',
        );
      }
    }
    throw new AllEmbeddingsFailedError(errors);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.adapters.map((a) => a.close()));
  }
}

export interface CreateEmbeddingsOptions {
  /** The MiniLM model folder, `miniLmModelDir(process.env)` from services/platform/paths.ts. */
  modelDir: string;
  /** ONNX Runtime threads for MiniLM (default 1, leaving a core to the API). */
  intraOpThreads?: number;
  /** Bound of the MiniLM queue in texts (default 1024). */
  maxQueuedTexts?: number;
  /** OpenAI embeddings (or any adapter) tried before MiniLM, when configured. */
  openai?: Embeddings;
  logger: Pick<Logger, 'warn' | 'error' | 'info'>;
}

/**
 * The composition root's embeddings: [openai?, MiniLM, lexical]. If the MiniLM model cannot be
 * loaded (not installed: run ops/setup.sh) the chain goes on without it and says so in the log,
 * and the lexical embedding, marked degraded, is always last.
 */
export async function createEmbeddings(options: CreateEmbeddingsOptions): Promise<FallbackEmbeddings> {
  const chain: Embeddings[] = [];
  if (options.openai) chain.push(options.openai);
  try {
    chain.push(
      await MiniLmEmbeddings.create({
        modelDir: options.modelDir,
        intraOpThreads: options.intraOpThreads ?? 1,
        maxQueuedTexts: options.maxQueuedTexts ?? 1024,
      }),
    );
  } catch (error) {
    options.logger.error(
      { err: error, modelDir: options.modelDir },
      'MiniLM embeddings unavailable: falling back to the next provider (degraded if lexical)',
    );
  }
  chain.push(new LexicalEmbeddings());
  return new FallbackEmbeddings(chain, options.logger);
}
