import { EMBEDDING_DIMENSIONS, type EmbeddingBatch, type Embeddings } from './embeddings';

/**
 * The last-resort embedding: deterministic, dependency-free, always answers. Each text becomes a
 * bag of features (lower-cased word unigrams, and character trigrams of each word padded with
 * `^`/`$`), each feature hashed (FNV-1a, 32 bits) into one of 384 buckets with a sign from a second
 * hash (signed feature hashing, so collisions cancel out on average rather than pile up), weighted
 * by 1 + ln(count), then L2-normalised. Texts sharing words or word fragments come out close;
 * it knows nothing of meaning, hence `degraded: true`.
 */
export const LEXICAL_MODEL = 'lexical-hash-v1';

const UNIGRAM_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;
const WORD = /[\p{L}\p{N}]+/gu;

/** FNV-1a over the UTF-16 code units of `s`, from `seed`, as an unsigned 32-bit integer. */
function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche (murmur3 fmix32), so that close strings land in unrelated buckets
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const BUCKET_SEED = 0x811c9dc5;
const SIGN_SEED = 0x9747b28c;

/** The weighted features of one text: `w:<word>` and `t:<trigram>`, with their counts. */
export function lexicalFeatures(text: string): Map<string, number> {
  const features = new Map<string, number>();
  const add = (key: string, weight: number): void => {
    features.set(key, (features.get(key) ?? 0) + weight);
  };
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  for (const word of words) {
    add(`w:${word}`, UNIGRAM_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  return features;
}

/** The unit-length lexical vector of `text` (a fixed unit vector for text without any word). */
export function lexicalVector(text: string): Float32Array {
  const acc = new Float64Array(EMBEDDING_DIMENSIONS);
  const features = lexicalFeatures(text);
  if (features.size === 0) features.set('empty:', 1);
  for (const [feature, weight] of features) {
    // sublinear: a word repeated ten times is not ten times the evidence
    const base = feature.startsWith('t:') ? TRIGRAM_WEIGHT : UNIGRAM_WEIGHT;
    const count = weight / base;
    const value = base * (1 + Math.log(count));
    const bucket = fnv1a(feature, BUCKET_SEED) % EMBEDDING_DIMENSIONS;
    const sign = (fnv1a(feature, SIGN_SEED) & 1) === 0 ? 1 : -1;
    acc[bucket] = (acc[bucket] ?? 0) + sign * value;
  }
  let norm = 0;
  for (const x of acc) norm += x * x;
  norm = Math.sqrt(norm);
  const out = new Float32Array(EMBEDDING_DIMENSIONS);
  if (norm === 0) {
    // every feature cancelled out (possible in principle with signed hashing): still a unit vector
    out[fnv1a(text, BUCKET_SEED) % EMBEDDING_DIMENSIONS] = 1;
    return out;
  }
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i++) out[i] = (acc[i] ?? 0) / norm;
  return out;
}

export class LexicalEmbeddings implements Embeddings {
  async embed(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingBatch> {
    options?.signal?.throwIfAborted();
    return { vectors: texts.map(lexicalVector), provider: 'lexical', model: LEXICAL_MODEL, degraded: true };
  }

  async close(): Promise<void> {}
}
