import { EMBEDDING_DIMENSIONS, type EmbeddingBatch, type Embeddings } from './embeddings';
import { LexicalEmbeddings } from './lexicalEmbeddings';
import { approximateTokenCount, embedPassages, sentenceSpans, splitPassages, type Passage } from './passages';
import { l2Norm } from './vectors';

const SENTENCES = [
  'Event sourcing records every change as an immutable event.',
  'The current state is a left fold over those events!',
  'Why does that help?',
  'Because auditing becomes trivial: the log is the truth.',
  'Projections turn the log into read models, e.g. PostgreSQL tables.',
  'Each one can be rebuilt from offset zero.',
];
const essay = (paragraphs: number): string =>
  Array.from({ length: paragraphs }, (_, p) => SENTENCES.map((s) => `${s} (${p})`).join(' ')).join('\n\n  ');

/** Every character outside the passages is whitespace, passages are ordered and disjoint. */
function expectExactCover(source: string, passages: Passage[]): void {
  let cursor = 0;
  for (const p of passages) {
    expect(source.slice(p.start, p.end)).toBe(p.text);
    expect(p.start).toBeGreaterThanOrEqual(cursor);
    expect(source.slice(cursor, p.start).trim()).toBe('');
    cursor = p.end;
  }
  expect(source.slice(cursor).trim()).toBe('');
}

describe('approximateTokenCount', () => {
  test('counts a token per short word and per punctuation mark', () => {
    expect(approximateTokenCount('A man is eating food.')).toBe(6);
    expect(approximateTokenCount('')).toBe(0);
  });

  test('counts long words as several pieces and CJK characters one each', () => {
    expect(approximateTokenCount('internationalization')).toBeGreaterThan(3);
    expect(approximateTokenCount('日本語')).toBe(3);
  });
});

describe('sentenceSpans', () => {
  test('finds sentences with exact offsets, whitespace trimmed', () => {
    const source = '  First one. Second one?\n\nThird!  ';
    const spans = sentenceSpans(source).map((s) => source.slice(s.start, s.end));
    expect(spans).toEqual(['First one.', 'Second one?', 'Third!']);
  });
});

describe('splitPassages', () => {
  test('a short text is one passage', () => {
    const text = 'One sentence. Two sentences.';
    expect(splitPassages(text)).toEqual([{ text, start: 0, end: text.length, tokens: approximateTokenCount(text) }]);
  });

  test('an empty or blank text is one empty passage', () => {
    expect(splitPassages('')).toEqual([{ text: '', start: 0, end: 0, tokens: 0 }]);
    expect(splitPassages(' \n\t ')).toEqual([{ text: '', start: 0, end: 0, tokens: 0 }]);
  });

  test('a ~400-word essay: offsets exact, every passage within the window, no text lost', () => {
    const source = essay(6);
    const passages = splitPassages(source);
    expect(passages.length).toBeGreaterThan(2);
    expectExactCover(source, passages);
    for (const p of passages) {
      expect(p.tokens).toBe(approximateTokenCount(p.text));
      expect(p.tokens).toBeLessThanOrEqual(254);
    }
  });

  test('cuts at sentence boundaries, a few sentences per passage', () => {
    const source = essay(4);
    const passages = splitPassages(source, { targetTokens: 40, maxSentences: 3 });
    const ends = new Set(sentenceSpans(source).map((s) => s.end));
    for (const p of passages) {
      expect(ends.has(p.end)).toBe(true);
      expect(sentenceSpans(p.text).length).toBeLessThanOrEqual(3);
    }
  });

  test('a sentence longer than the window is cut at whitespace', () => {
    const source = `${'word '.repeat(600)}end.`;
    const passages = splitPassages(source, { maxTokens: 64 });
    expect(passages.length).toBeGreaterThan(8);
    expectExactCover(source, passages);
    for (const p of passages) {
      expect(p.tokens).toBeLessThanOrEqual(62);
      expect(p.text).toBe(p.text.trim());
    }
  });

  test('a single word longer than the window is cut by characters, never inside a surrogate pair', () => {
    const source = `short. ${'🚀abc'.repeat(200)} tail.`;
    const passages = splitPassages(source, { maxTokens: 30 });
    expectExactCover(source, passages);
    for (const p of passages) {
      expect(p.tokens).toBeLessThanOrEqual(28);
      expect(p.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
  });

  test('uses the counter it is given', () => {
    const source = essay(2);
    const chars = (t: string): number => t.length;
    const passages = splitPassages(source, { countTokens: chars, maxTokens: 102, targetTokens: 100 });
    expectExactCover(source, passages);
    for (const p of passages) expect(p.text.length).toBeLessThanOrEqual(100);
  });
});

/** An adapter of our port with a 34-token window, counting words: records what it is asked. */
class WordWindowEmbeddings implements Embeddings {
  readonly maxTokens = 34;
  readonly asked: string[][] = [];
  private readonly lexical = new LexicalEmbeddings();
  countTokens(text: string): number {
    return text.split(/\s+/).filter(Boolean).length;
  }
  async embed(texts: string[]): Promise<EmbeddingBatch> {
    this.asked.push(texts);
    return this.lexical.embed(texts);
  }
  async close(): Promise<void> {}
}

describe('embedPassages', () => {
  test('embeds each passage in one call and gives a unit-length mean vector', async () => {
    const source = essay(6);
    const result = await embedPassages(new LexicalEmbeddings(), source);
    expect(result.passages.length).toBeGreaterThan(1);
    expectExactCover(source, result.passages);
    for (const p of result.passages) expect(p.vector).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(l2Norm(result.vector)).toBeCloseTo(1, 5);
    expect(result).toMatchObject({ provider: 'lexical', degraded: true });
  });

  test("splits with the adapter's own tokenizer and window when it has them", async () => {
    const adapter = new WordWindowEmbeddings();
    const source = essay(3);
    const result = await embedPassages(adapter, source);
    expect(adapter.asked).toHaveLength(1);
    for (const p of result.passages) expect(adapter.countTokens(p.text)).toBeLessThanOrEqual(32);
  });
});
