import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EMBEDDING_DIMENSIONS, type EmbeddingBatch, type Embeddings } from './embeddings';
import {
  MINILM_MAX_TOKENS,
  MINILM_MODEL,
  MINILM_ONNX_FILE,
  MINILM_TOKENIZER_FILE,
  MiniLmTokenizer,
} from './miniLmTokenizer';
import type { FromWorker, MiniLmWorkerData, ToWorker } from './miniLmWorker';

export { MINILM_MAX_TOKENS, MINILM_MODEL } from './miniLmTokenizer';

export interface MiniLmOptions {
  /** The folder with all-minilm-l6-v2.onnx and its tokenizer json (`miniLmModelDir()`). */
  modelDir: string;
  /** ONNX Runtime intra-op threads of the inference worker (default 1: the API keeps a core). */
  intraOpThreads?: number;
  /** Texts per model run (default 32). */
  maxBatchSize?: number;
  /** Texts waiting or running, all callers together, beyond which `embed` rejects (default 1024). */
  maxQueuedTexts?: number;
  /** The model window, [CLS] and [SEP] included (default 256, as sentence-transformers). */
  maxTokens?: number;
}

/** `embed` refused because the queue is full: shed load or retry later (not a provider failure). */
export class EmbeddingsQueueFullError extends Error {
  readonly code = 'EMBEDDINGS_QUEUE_FULL';
  constructor(
    readonly queued: number,
    readonly requested: number,
    readonly limit: number,
  ) {
    super(`embeddings queue full: ${queued} texts queued, ${requested} more requested, limit ${limit}`);
    this.name = 'EmbeddingsQueueFullError';
  }
}

/** The local model cannot answer (missing files, worker crashed, closed). */
export class EmbeddingsUnavailableError extends Error {
  readonly code = 'EMBEDDINGS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingsUnavailableError';
  }
}

interface Request {
  vectors: (Float32Array | undefined)[];
  remaining: number;
  settled: boolean;
  resolve: (vectors: Float32Array[]) => void;
  reject: (error: unknown) => void;
}

interface Item {
  request: Request;
  index: number;
  text: string;
}

interface InFlight {
  id: number;
  items: Item[];
}

/**
 * Runs the transpiled worker when compiled (dist/), or the TypeScript source through the
 * TypeScript compiler (a devDependency) when running from sources (ts-jest): a worker thread
 * cannot load a .ts file by itself.
 */
const TS_WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const Module = require('node:module');
const fs = require('node:fs');
const entryRequire = Module.createRequire(workerData.entry);
const ts = entryRequire('typescript');
Module._extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
entryRequire(workerData.entry);
`;

function startWorker(data: MiniLmWorkerData): Worker {
  const compiled = join(__dirname, 'miniLmWorker.js');
  if (existsSync(compiled)) return new Worker(compiled, { workerData: { miniLmWorker: data } });
  return new Worker(TS_WORKER_BOOTSTRAP, {
    eval: true,
    workerData: { miniLmWorker: data, entry: join(__dirname, 'miniLmWorker.ts') },
  });
}

/**
 * all-MiniLM-L6-v2 on onnxruntime-node, in a worker thread (ORT's `run` blocks its thread).
 * Callers' texts queue up in order (each call's texts sorted by length, to limit padding) and go
 * to the worker in batches of up to `maxBatchSize`, one batch at a time; concurrent small calls
 * share batches. The queue is bounded: beyond `maxQueuedTexts` `embed` rejects at once with
 * `EmbeddingsQueueFullError`. A crashed worker fails what it held and is restarted on next use.
 */
export class MiniLmEmbeddings implements Embeddings {
  readonly maxTokens: number;
  private readonly maxBatchSize: number;
  private readonly maxQueuedTexts: number;
  private readonly workerData: MiniLmWorkerData;
  private worker: Worker | null = null;
  private ready: Promise<Worker> | null = null;
  private readonly queue: Item[] = [];
  private inFlight: InFlight | null = null;
  private nextId = 1;
  private closed = false;
  /** Milliseconds the worker spent on each of the last batches (for benchmarks and logs). */
  lastBatchMs = 0;

  private constructor(
    private readonly tokenizer: MiniLmTokenizer,
    options: MiniLmOptions,
  ) {
    this.maxTokens = options.maxTokens ?? MINILM_MAX_TOKENS;
    this.maxBatchSize = options.maxBatchSize ?? 32;
    this.maxQueuedTexts = options.maxQueuedTexts ?? 1024;
    this.workerData = {
      modelDir: options.modelDir,
      intraOpThreads: options.intraOpThreads ?? 1,
      maxTokens: this.maxTokens,
    };
    if (this.maxBatchSize < 1 || this.maxQueuedTexts < 1 || this.workerData.intraOpThreads < 1) {
      throw new RangeError('maxBatchSize, maxQueuedTexts and intraOpThreads must be at least 1');
    }
    if (this.maxTokens < 3 || this.maxTokens > 512) throw new RangeError('maxTokens must be within 3..512');
  }

  /** Loads the tokenizer, starts the worker and waits until the model is loaded. */
  static async create(options: MiniLmOptions): Promise<MiniLmEmbeddings> {
    for (const file of [MINILM_ONNX_FILE, MINILM_TOKENIZER_FILE]) {
      if (!existsSync(join(options.modelDir, file))) {
        throw new EmbeddingsUnavailableError(
          `MiniLM model file ${join(options.modelDir, file)} is missing: run ops/setup.sh (npm start / npm test ` +
            `install it into $CACHE_DIR/models/all-minilm-l6-v2) or set MINILM_MODEL_DIR`,
        );
      }
    }
    const embeddings = new MiniLmEmbeddings(MiniLmTokenizer.fromModelDir(options.modelDir), options);
    await embeddings.ensureWorker();
    return embeddings;
  }

  /** Word pieces of `text` without [CLS]/[SEP]: a window holds `maxTokens - 2` (synchronous). */
  countTokens(text: string): number {
    return this.tokenizer.countTokens(text);
  }

  /** Texts queued or being embedded right now. */
  get queuedTexts(): number {
    return this.queue.length + (this.inFlight?.items.length ?? 0);
  }

  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingBatch> {
    if (this.closed) return Promise.reject(new EmbeddingsUnavailableError('MiniLM embeddings are closed'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (texts.length === 0) return Promise.resolve(this.batch([]));
    if (this.queuedTexts + texts.length > this.maxQueuedTexts) {
      return Promise.reject(new EmbeddingsQueueFullError(this.queuedTexts, texts.length, this.maxQueuedTexts));
    }
    return new Promise<Float32Array[]>((resolve, reject) => {
      const request: Request = {
        vectors: new Array<Float32Array | undefined>(texts.length),
        remaining: texts.length,
        settled: false,
        resolve,
        reject,
      };
      const onAbort = (): void => {
        this.fail(request, signal?.reason);
        // drop its queued texts; a batch already in the worker finishes and is discarded
        for (let i = this.queue.length - 1; i >= 0; i--)
          if (this.queue[i]?.request === request) this.queue.splice(i, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      request.resolve = (vectors) => {
        settle();
        resolve(vectors);
      };
      request.reject = (error) => {
        settle();
        reject(error);
      };
      // Longest first; similar lengths end up in the same batch, so little padding.
      const items = texts.map((text, index) => ({ request, index, text }));
      items.sort((a, b) => b.text.length - a.text.length);
      this.queue.push(...items);
      this.pump();
    }).then((vectors) => this.batch(vectors));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new EmbeddingsUnavailableError('MiniLM embeddings were closed');
    for (const item of this.queue.splice(0)) this.fail(item.request, error);
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
    if (this.inFlight) for (const item of this.inFlight.items) this.fail(item.request, error);
    this.inFlight = null;
  }

  private batch(vectors: Float32Array[]): EmbeddingBatch {
    return { vectors, provider: 'minilm-onnx', model: MINILM_MODEL, degraded: false };
  }

  private fail(request: Request, error: unknown): void {
    if (request.settled) return;
    request.settled = true;
    request.reject(error);
  }

  private ensureWorker(): Promise<Worker> {
    if (this.ready) return this.ready;
    const worker = startWorker(this.workerData);
    this.worker = worker;
    this.ready = new Promise<Worker>((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          resolve(worker);
        } else if (message.type === 'failed') {
          worker.off('message', onMessage);
          reject(new EmbeddingsUnavailableError(`MiniLM model failed to load: ${message.message}`));
          void worker.terminate();
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (e) => reject(new EmbeddingsUnavailableError('MiniLM worker failed', { cause: e })));
      worker.once('exit', (code) => reject(new EmbeddingsUnavailableError(`MiniLM worker exited (${code})`)));
    });
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (e) =>
      this.onWorkerGone(worker, new EmbeddingsUnavailableError('MiniLM worker crashed', { cause: e })),
    );
    worker.on('exit', (code) =>
      this.onWorkerGone(worker, new EmbeddingsUnavailableError(`MiniLM worker exited (${code})`)),
    );
    this.ready.catch(() => this.onWorkerGone(worker, new EmbeddingsUnavailableError('MiniLM worker did not start')));
    return this.ready;
  }

  private onWorkerGone(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ready = null;
    if (this.inFlight) for (const item of this.inFlight.items) this.fail(item.request, error);
    this.inFlight = null;
    for (const item of this.queue.splice(0)) this.fail(item.request, error);
  }

  /**
   * How many queued texts go in the next batch: up to maxBatchSize, but a batch is padded to its
   * longest text (and attention grows with the square of the length), so a text under half the
   * first one's length, or longer than it (the next caller's), starts the next batch. One long
   * essay window then no longer drags 31 short passages up to 256 tokens (measured: the offline
   * scorer's 38 texts for a 400-word essay, 2.7 s → 0.24 s).
   */
  private batchLength(): number {
    const first = this.queue[0]!.text.length;
    let n = 1;
    const fits = (length: number) => length <= first && length * 2 >= first;
    while (n < this.maxBatchSize && n < this.queue.length && fits(this.queue[n]!.text.length)) n++;
    return n;
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    while (this.queue.length && this.queue[0]?.request.settled) this.queue.shift();
    if (!this.queue.length) return;
    const items = this.queue.splice(0, this.batchLength());
    const id = this.nextId++;
    this.inFlight = { id, items };
    this.ensureWorker().then(
      (worker) => {
        if (this.inFlight?.items !== items) return;
        worker.postMessage({ type: 'embed', id, texts: items.map((i) => i.text) } satisfies ToWorker);
      },
      (e: unknown) => {
        for (const item of items) this.fail(item.request, e);
        if (this.inFlight?.items === items) this.inFlight = null;
        this.pump();
      },
    );
  }

  private onMessage(message: FromWorker): void {
    if (message.type !== 'embedded' && message.type !== 'error') return;
    const inFlight = this.inFlight;
    if (!inFlight || inFlight.id !== message.id) return;
    this.inFlight = null;
    if (message.type === 'error') {
      const error = new EmbeddingsUnavailableError(`MiniLM inference failed: ${message.message}`);
      for (const item of inFlight.items) this.fail(item.request, error);
    } else {
      this.lastBatchMs = message.ms;
      inFlight.items.forEach((item, row) => {
        const { request } = item;
        if (request.settled) return;
        request.vectors[item.index] = message.vectors.slice(
          row * EMBEDDING_DIMENSIONS,
          (row + 1) * EMBEDDING_DIMENSIONS,
        );
        if (--request.remaining === 0) {
          request.settled = true;
          request.resolve(request.vectors as Float32Array[]);
        }
      });
    }
    this.pump();
  }
}
