/**
 * The all-MiniLM-L6-v2 inference worker (a worker_threads worker started by miniLmEmbeddings.ts).
 * onnxruntime-node's `session.run` (1.30) is a synchronous native call on the calling thread
 * (its promise only defers it with setImmediate), so running it on the API's thread would stall
 * every request for the length of a batch. Here it blocks only this worker.
 *
 * Per batch: tokenize (truncate to the window, pad to the longest), run, mean-pool the
 * last hidden state over the attention mask, L2-normalise — as sentence-transformers does.
 */
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { EMBEDDING_DIMENSIONS } from './embeddings';
import { MINILM_ONNX_FILE, MiniLmTokenizer } from './miniLmTokenizer';

export interface MiniLmWorkerData {
  modelDir: string;
  intraOpThreads: number;
  maxTokens: number;
}

export type ToWorker = { type: 'embed'; id: number; texts: string[] } | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'embedded'; id: number; vectors: Float32Array; ms: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' };

/** The model's inputs for a batch: every text truncated to `maxTokens`, padded to the longest. */
export function batchInputs(
  tokenizer: MiniLmTokenizer,
  texts: string[],
  maxTokens: number,
): { ids: BigInt64Array; mask: BigInt64Array; types: BigInt64Array; length: number } {
  const encoded = texts.map((t) => tokenizer.encodeForModel(t, maxTokens));
  const length = Math.max(...encoded.map((e) => e.length));
  const ids = new BigInt64Array(texts.length * length); // [PAD] is id 0
  const mask = new BigInt64Array(texts.length * length);
  encoded.forEach((e, row) => {
    for (let i = 0; i < e.length; i++) {
      ids[row * length + i] = BigInt(e[i] ?? 0);
      mask[row * length + i] = 1n;
    }
  });
  return { ids, mask, types: new BigInt64Array(texts.length * length), length };
}

/** Mean over the positions where mask = 1, then L2 normalisation; row-major [batch, 384]. */
export function meanPoolNormalize(
  hidden: Float32Array,
  mask: BigInt64Array,
  batch: number,
  length: number,
  dims: number,
): Float32Array {
  const out = new Float32Array(batch * dims);
  const acc = new Float64Array(dims);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < length; t++) {
      if (mask[b * length + t] === 0n) continue;
      count++;
      const base = (b * length + t) * dims;
      for (let d = 0; d < dims; d++) acc[d] = (acc[d] ?? 0) + (hidden[base + d] ?? 0);
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      const mean = (acc[d] ?? 0) / Math.max(count, 1);
      acc[d] = mean;
      norm += mean * mean;
    }
    norm = Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dims; d++) out[b * dims + d] = (acc[d] ?? 0) / norm;
  }
  return out;
}

/**
 * On Linux a thread is a task with its own nice value: setpriority(pid 0) from this worker
 * applies to this thread only (and to ONNX Runtime's threads, created after it). Embedding then
 * yields the cores to the API's event loop instead of competing with it as an equal. Elsewhere,
 * or without permission, it is a no-op.
 */
const EMBEDDING_NICE = 10;
function lowerThisThreadsPriority(): void {
  try {
    setPriority(0, EMBEDDING_NICE);
  } catch {
    // not permitted or not supported: embed at normal priority
  }
}

async function main(port: NonNullable<typeof parentPort>, data: MiniLmWorkerData): Promise<void> {
  const send = (message: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);
  let session: ort.InferenceSession;
  let tokenizer: MiniLmTokenizer;
  lowerThisThreadsPriority();
  try {
    tokenizer = MiniLmTokenizer.fromModelDir(data.modelDir);
    session = await ort.InferenceSession.create(join(data.modelDir, MINILM_ONNX_FILE), {
      intraOpNumThreads: data.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // The CPU arena keeps, for the process's life, the most any batch shape ever needed
      // (hundreds of MB after a few 32 × 256-token batches); without it memory follows the load.
      enableCpuMemArena: false,
    });
  } catch (e) {
    send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  send({ type: 'ready' });

  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      void session.release().finally(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    }
    const started = performance.now();
    const { id, texts } = message;
    const { ids, mask, types, length } = batchInputs(tokenizer, texts, data.maxTokens);
    const dims = [texts.length, length];
    session
      .run({
        input_ids: new ort.Tensor('int64', ids, dims),
        attention_mask: new ort.Tensor('int64', mask, dims),
        token_type_ids: new ort.Tensor('int64', types, dims),
      })
      .then((outputs) => {
        const hidden = outputs.last_hidden_state;
        if (!hidden || !(hidden.data instanceof Float32Array))
          throw new Error('model gave no float32 last_hidden_state');
        const vectors = meanPoolNormalize(hidden.data, mask, texts.length, length, EMBEDDING_DIMENSIONS);
        hidden.dispose();
        send({ type: 'embedded', id, vectors, ms: performance.now() - started }, [vectors.buffer as ArrayBuffer]);
      })
      .catch((e: unknown) => send({ type: 'error', id, message: e instanceof Error ? e.message : String(e) }));
  });
}

if (parentPort && (workerData as { miniLmWorker?: MiniLmWorkerData } | null)?.miniLmWorker) {
  void main(parentPort, (workerData as { miniLmWorker: MiniLmWorkerData }).miniLmWorker);
}
