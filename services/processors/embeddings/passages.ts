import type { EmbeddingBatch, Embeddings } from './embeddings';
import { meanVector } from './vectors';

/**
 * Long text → passages that each fit the embedding model's window, for embedding passage by
 * passage. Pure: the token counter is a parameter (the MiniLM adapter's exact `countTokens`, or
 * `approximateTokenCount`).
 */

/** A slice of the source: `source.slice(start, end) === text`. */
export interface Passage {
  text: string;
  start: number;
  end: number;
  /** Its token count as the counter sees it, without [CLS]/[SEP]. */
  tokens: number;
}

export interface SplitOptions {
  /** Word pieces of a text, without special tokens. Default: `approximateTokenCount`. */
  countTokens?: (text: string) => number;
  /** The model window with [CLS] and [SEP] (default 256): a passage has at most `maxTokens - 2`. */
  maxTokens?: number;
  /** A passage takes the next sentence while it holds fewer tokens than this (default 128). */
  targetTokens?: number;
  /** At most this many sentences per passage (default 5). */
  maxSentences?: number;
}

const WORD_CHARS = /[\p{L}\p{M}\p{N}]/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu;
const PRE_TOKENS = /[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;

/**
 * An estimate of BERT word pieces, for when the real tokenizer is not at hand: a token per
 * punctuation mark or CJK character, and per word one piece plus one per 3 letters beyond 4. On
 * English prose it lands within a few percent of the real count (more often above than below); on
 * code or identifiers it can fall short by a quarter, so with it keep a margin in `maxTokens`.
 */
export function approximateTokenCount(text: string): number {
  let n = 0;
  for (const [token] of text.normalize('NFKC').matchAll(PRE_TOKENS)) {
    if (!WORD_CHARS.test(token)) {
      n += 1;
      continue;
    }
    const cjk = token.match(CJK)?.length ?? 0;
    const rest = token.length - cjk;
    n += cjk + (rest > 0 ? 1 + Math.floor(Math.max(0, rest - 4) / 3) : 0);
  }
  return n;
}

interface Span {
  start: number;
  end: number;
}

/** Sentence spans of `source` with surrounding whitespace trimmed off (empty ones dropped). */
export function sentenceSpans(source: string): Span[] {
  const spans: Span[] = [];
  const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
  for (const { segment, index } of segmenter.segment(source)) {
    const lead = segment.length - segment.trimStart().length;
    const trimmed = segment.trim();
    if (trimmed.length > 0) spans.push({ start: index + lead, end: index + lead + trimmed.length });
  }
  return spans;
}

/** Cuts a span too long for the budget at whitespace, and a single over-long word by characters. */
function fitSpan(source: string, span: Span, budget: number, count: (s: string) => number): Span[] {
  if (count(source.slice(span.start, span.end)) <= budget) return [span];
  const words: Span[] = [];
  for (const m of source.slice(span.start, span.end).matchAll(/\S+/g)) {
    const start = span.start + (m.index ?? 0);
    words.push({ start, end: start + m[0].length });
  }
  const pieces = words.flatMap((w) => splitWord(source, w, budget, count));
  // Greedy: each span takes the most pieces that fit after its first, found by galloping then
  // bisecting over the piece index, so a long run of words costs a few counts per span (not one
  // count per word, of the span so far).
  const out: Span[] = [];
  for (let i = 0; i < pieces.length;) {
    const start = pieces[i]!.start;
    const fits = (j: number): boolean => count(source.slice(start, pieces[j]!.end)) <= budget;
    let lo = i;
    let hi = pieces.length - 1;
    for (let step = 1; i + step <= hi; step *= 2) {
      if (!fits(i + step)) {
        hi = i + step - 1;
        break;
      }
      lo = i + step;
    }
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid - 1;
    }
    out.push({ start, end: pieces[lo]!.end });
    i = lo + 1;
  }
  return out;
}

/**
 * A word longer than the budget, in the longest prefixes that fit (never splitting a surrogate pair).
 * Each piece is found by galloping (prefixes of budget, 2×budget, … characters) to one that no
 * longer fits, then bisecting: its cost is a few counts of about the piece's own length, never of
 * the whole word (a 200,000-character run without spaces, e.g. CJK text or base64, stays linear).
 */
function splitWord(source: string, word: Span, budget: number, count: (s: string) => number): Span[] {
  const out: Span[] = [];
  let start = word.start;
  while (start < word.end) {
    let lo = start + 1; // always make progress, even if one character exceeds the budget
    let hi = word.end;
    for (let length = Math.max(1, budget); start + length < hi; length *= 2) {
      if (count(source.slice(start, start + length)) > budget) {
        hi = start + length - 1;
        break;
      }
      lo = start + length;
    }
    if (hi === word.end && count(source.slice(start, word.end)) <= budget) {
      out.push({ start, end: word.end });
      break;
    }
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (count(source.slice(start, mid)) <= budget) lo = mid;
      else hi = mid - 1;
    }
    let end = lo;
    const code = source.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff && end < word.end) end++;
    out.push({ start, end });
    start = end;
  }
  return out;
}

/**
 * Splits `source` into passages at sentence boundaries (a few sentences each; a sentence too
 * long for the window is cut at whitespace). Passages are in order, do not overlap, and together
 * cover every non-whitespace character. An empty or blank text gives one empty passage.
 */
export function splitPassages(source: string, options: SplitOptions = {}): Passage[] {
  const count = options.countTokens ?? approximateTokenCount;
  const budget = (options.maxTokens ?? 256) - 2;
  const target = Math.min(options.targetTokens ?? 128, budget);
  const maxSentences = options.maxSentences ?? 5;
  if (budget < 1) throw new RangeError('maxTokens must leave room for at least one token');

  const units = sentenceSpans(source).flatMap((s) => fitSpan(source, s, budget, count));
  if (units.length === 0) return [{ text: '', start: 0, end: 0, tokens: 0 }];

  const passages: Passage[] = [];
  let current: (Passage & { sentences: number }) | null = null;
  const make = (start: number, end: number, sentences: number): Passage & { sentences: number } => {
    const text = source.slice(start, end);
    return { text, start, end, tokens: count(text), sentences };
  };
  const push = (p: Passage & { sentences: number }): void => {
    passages.push({ text: p.text, start: p.start, end: p.end, tokens: p.tokens });
  };
  for (const unit of units) {
    if (current && current.tokens < target && current.sentences < maxSentences) {
      const joined = make(current.start, unit.end, current.sentences + 1);
      if (joined.tokens <= budget) {
        current = joined;
        continue;
      }
    }
    if (current) push(current);
    current = make(unit.start, unit.end, 1);
  }
  if (current) push(current);
  return passages;
}

export interface EmbeddedPassage extends Passage {
  vector: Float32Array;
}

export interface EmbeddedText extends Omit<EmbeddingBatch, 'vectors'> {
  passages: EmbeddedPassage[];
  /** The mean of the passages' vectors, re-normalised to unit length. */
  vector: Float32Array;
}

/**
 * Embeds a long text passage by passage (one `embed` call, so one provider for all of them) and
 * their mean as the text's vector. Splits with the adapter's own tokenizer when it has one
 * (`countTokens` + `maxTokens`), else with `approximateTokenCount` within `options.maxTokens`.
 */
export async function embedPassages(
  embeddings: Embeddings,
  text: string,
  options: SplitOptions & { signal?: AbortSignal } = {},
): Promise<EmbeddedText> {
  const { signal, ...split } = options;
  const { countTokens, maxTokens } = embeddings;
  const exact =
    countTokens && maxTokens !== undefined
      ? {
          countTokens: (t: string): number => countTokens.call(embeddings, t),
          maxTokens: Math.min(split.maxTokens ?? maxTokens, maxTokens),
        }
      : {};
  const passages = splitPassages(text, { ...split, ...exact });
  const batch = await embeddings.embed(
    passages.map((p) => p.text),
    signal ? { signal } : undefined,
  );
  const embedded = passages.map((p, i) => {
    const vector = batch.vectors[i];
    if (!vector) throw new Error(`${batch.provider} returned ${batch.vectors.length} vectors for ${passages.length}`);
    return { ...p, vector };
  });
  return {
    passages: embedded,
    vector: meanVector(embedded.map((p) => p.vector)),
    provider: batch.provider,
    model: batch.model,
    degraded: batch.degraded,
  };
}
