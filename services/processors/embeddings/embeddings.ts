/**
 * The embeddings port: text in, 384-dimensional L2-normalised vectors out. Adapters: the local
 * all-MiniLM-L6-v2 ONNX model (default), OpenAI embeddings (when configured) and a deterministic
 * lexical embedding (last resort, degraded). Every vector says which provider and model made it,
 * so stored vectors can be told apart and recomputed.
 */
export const EMBEDDING_DIMENSIONS = 384;

export type EmbeddingProvider = 'minilm-onnx' | 'openai' | 'lexical';

export interface EmbeddingBatch {
  /** One vector per input text, in input order, each of EMBEDDING_DIMENSIONS and unit length. */
  vectors: Float32Array[];
  provider: EmbeddingProvider;
  /** e.g. `all-MiniLM-L6-v2`, `text-embedding-3-small`, `lexical-hash-v1`. */
  model: string;
  /** True when a fallback produced the vectors (the lexical embedding). */
  degraded: boolean;
}

export interface Embeddings {
  /**
   * Embeds each text as one window (a text longer than the model's window is truncated; use
   * `embedPassages` for long text). Rejects with an error when the provider cannot answer.
   */
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingBatch>;
  close(): Promise<void>;
  /**
   * Optional, for adapters with a fixed window and their own tokenizer (MiniLM): the window in
   * tokens, [CLS]/[SEP] included, and a synchronous count of a text's tokens without them.
   * `embedPassages` splits long text with these so that every passage fits.
   */
  readonly maxTokens?: number;
  countTokens?(text: string): number;
}
