/**
 * Text features that need no model: tokens and crude stems, sentence and passage spans (with
 * offsets into the original text, so evidence is always a verbatim substring), hashed TF-IDF of
 * word uni/bigrams and character n-grams, and length / structure / vocabulary / cohesion
 * statistics. Pure and deterministic.
 */

/** Articles, pronouns, auxiliaries, prepositions, conjunctions: the glue of real sentences. */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    "a an the this that these those it its it's they them their theirs he him his she her hers we us our " +
    'you your i me my mine who whom whose which what when where why how there here ' +
    'is are was were be been being am do does did doing done have has had having will would shall should ' +
    'can could may might must not no nor never ' +
    'of in on at by for with without from to into onto over under about above below between through ' +
    'during before after since until against among within across along around behind beyond upon toward towards ' +
    'and or but so because if then than as while though although unless whereas whether also too very ' +
    'just only even more most less least much many some any all each every both either neither other another ' +
    "such same own up down out off again further once isn't aren't don't doesn't didn't won't can't"
  ).split(/\s+/),
);

/** Words that link ideas; their presence is a (weak) sign of an explanation rather than a list. */
export const CONNECTIVES: ReadonlySet<string> = new Set(
  (
    'because therefore thus hence so since however although though whereas while which means causes cause ' +
    'result results leads lead due consequently first second third then finally next also instead unless ' +
    'if when example instance shows show'
  ).split(/\s+/),
);

export interface Span {
  start: number;
  end: number;
  text: string;
}

/** Lower-cased word tokens (letters/digits, with an inner apostrophe kept). */
export function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? []
  );
}

/** A crude, deterministic suffix stripper (enough to make "evaporates"/"evaporated" agree). */
export function stem(word: string): string {
  let w = word.replace(/['’]s$/, '').replace(/['’]/g, '');
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ness') && w.length > 6) w = w.slice(0, -4);
  else if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('edly') && w.length > 6) w = w.slice(0, -4);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  else if (w.endsWith('es') && w.length > 4 && /(?:ss|x|ch|sh|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is') && w.length > 3)
    w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

export function isFunctionWord(word: string): boolean {
  return FUNCTION_WORDS.has(word);
}

/** Stems of the words that carry content (function words and 1-letter tokens left out). */
export function contentStems(text: string): string[] {
  return words(text)
    .filter((w) => w.length > 1 && !FUNCTION_WORDS.has(w))
    .map(stem);
}

/** Sentence spans over the original text (offsets exact; whitespace around a sentence left out). */
export function sentenceSpans(text: string): Span[] {
  const spans: Span[] = [];
  const re = /[^.!?;\n]+(?:[.!?;]+|\n|$)/g;
  for (const m of text.matchAll(re)) {
    const raw = m[0];
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (!/[\p{L}\p{N}]/u.test(trimmed)) continue;
    const start = (m.index ?? 0) + lead;
    spans.push({ start, end: start + trimmed.length, text: trimmed });
  }
  return spans;
}

/**
 * Passages to compare with rubric text: sentences, with sentences longer than `maxWords` cut into
 * windows of `maxWords` words. Each passage is an exact substring of `text`.
 */
export function passageSpans(text: string, maxWords = 40): Span[] {
  const out: Span[] = [];
  for (const s of sentenceSpans(text)) {
    const tokens = [...s.text.matchAll(/\S+/g)];
    if (tokens.length <= maxWords) {
      out.push(s);
      continue;
    }
    for (let i = 0; i < tokens.length; i += maxWords) {
      const first = tokens[i];
      const last = tokens[Math.min(tokens.length, i + maxWords) - 1];
      if (first === undefined || last === undefined) continue;
      const start = s.start + (first.index ?? 0);
      const end = s.start + (last.index ?? 0) + last[0].length;
      out.push({ start, end, text: text.slice(start, end) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hashed TF-IDF

export const HASH_BITS = 18;
const HASH_MASK = (1 << HASH_BITS) - 1;

/** FNV-1a, 32 bits. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface SparseVector {
  idx: Int32Array;
  val: Float64Array;
}

/** Word unigrams and bigrams of stems (the "word" view). */
export function wordGrams(text: string): string[] {
  const stems = words(text).map(stem);
  const grams = stems.map((s) => `w:${s}`);
  for (let i = 0; i + 1 < stems.length; i++) grams.push(`b:${stems[i]} ${stems[i + 1]}`);
  return grams;
}

/** Character 3- to 5-grams within word boundaries (robust to misspellings). */
export function charGrams(text: string): string[] {
  const grams: string[] = [];
  for (const w of words(text)) {
    const padded = ` ${w} `;
    for (let n = 3; n <= 5; n++) {
      if (padded.length < n) continue;
      for (let i = 0; i + n <= padded.length; i++) grams.push(padded.slice(i, i + n));
    }
  }
  return grams;
}

function hashedCounts(grams: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const g of grams) {
    const h = fnv1a(g) & HASH_MASK;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}

/**
 * Sublinear TF × smoothed IDF over hashed buckets, L2-normalised; buckets never seen in the
 * fitted documents are dropped (as a fitted vocabulary would).
 */
export class HashedTfIdf {
  private constructor(
    private readonly idf: Map<number, number>,
    readonly documents: number,
  ) {}

  static fit(docs: readonly (readonly string[])[]): HashedTfIdf {
    const df = new Map<number, number>();
    for (const grams of docs) for (const h of hashedCounts(grams).keys()) df.set(h, (df.get(h) ?? 0) + 1);
    const n = docs.length;
    const idf = new Map<number, number>();
    for (const [h, d] of df) idf.set(h, Math.log((1 + n) / (1 + d)) + 1);
    return new HashedTfIdf(idf, n);
  }

  transform(grams: readonly string[]): SparseVector {
    const entries: [number, number][] = [];
    for (const [h, c] of hashedCounts(grams)) {
      const idf = this.idf.get(h);
      if (idf !== undefined) entries.push([h, (1 + Math.log(c)) * idf]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, v] of entries) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    return {
      idx: Int32Array.from(entries, (e) => e[0]),
      val: Float64Array.from(entries, (e) => e[1] / norm),
    };
  }
}

export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const ai = a.idx[i] as number;
    const bj = b.idx[j] as number;
    if (ai === bj) s += (a.val[i] as number) * (b.val[j] as number);
    if (ai <= bj) i++;
    if (bj <= ai) j++;
  }
  return s;
}

/** Gram matrix of unit sparse vectors (cosine similarities), computed with a dense scatter. */
export function sparseGram(vectors: readonly SparseVector[]): Float64Array[] {
  const n = vectors.length;
  const out = Array.from({ length: n }, () => new Float64Array(n));
  const dense = new Float64Array(1 << HASH_BITS);
  for (let i = 0; i < n; i++) {
    const vi = vectors[i] as SparseVector;
    for (let k = 0; k < vi.idx.length; k++) dense[vi.idx[k] as number] = vi.val[k] as number;
    const row = out[i] as Float64Array;
    for (let j = i; j < n; j++) {
      const vj = vectors[j] as SparseVector;
      let s = 0;
      for (let k = 0; k < vj.idx.length; k++) s += (dense[vj.idx[k] as number] as number) * (vj.val[k] as number);
      row[j] = s;
      (out[j] as Float64Array)[i] = s;
    }
    for (let k = 0; k < vi.idx.length; k++) dense[vi.idx[k] as number] = 0;
  }
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    s += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? s / Math.sqrt(na * nb) : 0;
}

// ---------------------------------------------------------------------------------------------
// Length, structure, vocabulary, cohesion

export interface TextStats {
  words: number;
  sentences: number;
  contentWords: number;
  uniqueContentStems: number;
  meanWordLength: number;
  typeTokenRatio: number;
  functionWordRatio: number;
  longWordShare: number;
  connectives: number;
  /** Mean Jaccard overlap of content stems between adjacent sentences (0 with one sentence). */
  cohesion: number;
}

export function textStats(text: string): TextStats {
  const ws = words(text);
  const sentences = sentenceSpans(text);
  const content = ws.filter((w) => w.length > 1 && !FUNCTION_WORDS.has(w));
  const uniqueContent = new Set(content.map(stem));
  const unique = new Set(ws);
  let cohesion = 0;
  if (sentences.length > 1) {
    let sum = 0;
    let prev = new Set(contentStems((sentences[0] as Span).text));
    for (let i = 1; i < sentences.length; i++) {
      const cur = new Set(contentStems((sentences[i] as Span).text));
      let inter = 0;
      for (const s of cur) if (prev.has(s)) inter++;
      const union = prev.size + cur.size - inter;
      sum += union > 0 ? inter / union : 0;
      prev = cur;
    }
    cohesion = sum / (sentences.length - 1);
  }
  const n = ws.length;
  return {
    words: n,
    sentences: sentences.length,
    contentWords: content.length,
    uniqueContentStems: uniqueContent.size,
    meanWordLength: n > 0 ? ws.reduce((s, w) => s + w.length, 0) / n : 0,
    typeTokenRatio: n > 0 ? unique.size / n : 0,
    functionWordRatio: n > 0 ? (n - content.length) / n : 0,
    longWordShare: n > 0 ? ws.filter((w) => w.length >= 7).length / n : 0,
    connectives: ws.filter((w) => CONNECTIVES.has(w)).length,
    cohesion,
  };
}
