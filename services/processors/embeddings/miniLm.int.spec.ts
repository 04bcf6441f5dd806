import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { miniLmModelDir } from '../../platform/paths';
import { EMBEDDING_DIMENSIONS } from './embeddings';
import { EmbeddingsQueueFullError, MINILM_MODEL, MiniLmEmbeddings } from './miniLmEmbeddings';
import { embedPassages } from './passages';
import { cosine, l2Norm } from './vectors';

/**
 * Reference vectors computed independently (numpy forward pass of the original weights). The file
 * is a copy of the project's shared fixture `shared/fixtures/minilm-reference.json`, kept in the
 * repository so that a clone on its own (without `../shared`) runs this spec too.
 */
interface Reference {
  dimensions: number;
  sentences: { text: string; vector: number[] }[];
}
const reference: Reference = JSON.parse(
  readFileSync(join(__dirname, 'testing', 'minilm-reference.json'), 'utf8'),
) as Reference;

const maxAbsDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] ?? 0))), 0);

const ESSAY = [
  'Event sourcing records every change to an application as an immutable event in an append-only log.',
  'Instead of storing only the current state, the system can replay those events to rebuild any past state.',
  'This makes auditing straightforward, because the history of who did what and when is the source of truth.',
  'However, it also introduces complexity: schemas evolve, projections must be rebuilt, and consumers must be idempotent.',
  'Kafka is a natural fit for the log, since partitions preserve order and consumer groups scale reads.',
].join(' ');

describe('MiniLmEmbeddings (all-MiniLM-L6-v2 on onnxruntime-node)', () => {
  let embeddings: MiniLmEmbeddings;

  beforeAll(async () => {
    embeddings = await MiniLmEmbeddings.create({ modelDir: miniLmModelDir(process.env) });
  });
  afterAll(async () => {
    await embeddings.close();
  });

  test.each(reference.sentences.map((s, i) => [i, s.text, s.vector] as const))(
    'reference sentence %i (%j) has cosine >= 0.9999 with the reference vector',
    async (_i, text, vector) => {
      const batch = await embeddings.embed([text]);
      expect(batch).toMatchObject({ provider: 'minilm-onnx', model: MINILM_MODEL, degraded: false });
      const [v] = batch.vectors;
      expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(l2Norm(v!)).toBeCloseTo(1, 5);
      expect(cosine(v!, vector)).toBeGreaterThanOrEqual(0.9999);
    },
  );

  test('a batch of mixed lengths gives the same vectors, in input order, as one text at a time', async () => {
    const texts = [ESSAY, ...reference.sentences.map((s) => s.text), ESSAY.slice(0, 200)];
    const together = await embeddings.embed(texts);
    expect(together.vectors).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) {
      const [alone] = (await embeddings.embed([text])).vectors;
      expect(maxAbsDiff(together.vectors[i]!, alone!)).toBeLessThan(1e-5);
    }
  });

  test('concurrent callers share batches and each gets its own vectors back', async () => {
    const texts = reference.sentences.map((s) => s.text);
    const [one, many] = await Promise.all([embeddings.embed([texts[0]!]), embeddings.embed(texts)]);
    expect(maxAbsDiff(one.vectors[0]!, many.vectors[0]!)).toBeLessThan(1e-5);
  });

  test('a text over 256 tokens is truncated to the window, not an error', async () => {
    const long = `${ESSAY} `.repeat(6);
    expect(embeddings.countTokens(long)).toBeGreaterThan(600);
    const longer = `${long} Completely different words appended far beyond the window change nothing.`;
    const [a, b] = (await embeddings.embed([long, longer])).vectors;
    expect(l2Norm(a!)).toBeCloseTo(1, 5);
    expect(maxAbsDiff(a!, b!)).toBeLessThan(1e-5);
  });

  test('the queue is bounded: beyond maxQueuedTexts embed rejects with EmbeddingsQueueFullError', async () => {
    const small = await MiniLmEmbeddings.create({ modelDir: miniLmModelDir(process.env), maxQueuedTexts: 4 });
    try {
      await expect(small.embed(['a', 'b', 'c', 'd', 'e'])).rejects.toBeInstanceOf(EmbeddingsQueueFullError);
      const running = small.embed(['a', 'b', 'c']);
      await expect(small.embed(['d', 'e'])).rejects.toMatchObject({ code: 'EMBEDDINGS_QUEUE_FULL', limit: 4 });
      const accepted = small.embed(['d']);
      expect((await running).vectors).toHaveLength(3);
      expect((await accepted).vectors).toHaveLength(1);
      expect(small.queuedTexts).toBe(0);
    } finally {
      await small.close();
    }
  });

  test('inference runs off the event loop: timers keep firing while a large batch is embedded', async () => {
    const texts = Array.from({ length: 64 }, (_, i) => `${i} ${ESSAY}`);
    let worstGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    await embeddings.embed(texts);
    const took = performance.now() - started;
    clearInterval(timer);
    expect(took).toBeGreaterThan(200); // a real amount of work...
    expect(worstGap).toBeLessThan(100); // ...during which the loop never stalled for long
  });

  test('an aborted call rejects with the reason and leaves nothing queued', async () => {
    const controller = new AbortController();
    const pending = embeddings.embed(
      Array.from({ length: 40 }, (_, i) => `${i} ${ESSAY}`),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    expect((await embeddings.embed(['still works'])).vectors).toHaveLength(1);
  });

  test('embedPassages splits with the real tokenizer: every passage fits the window', async () => {
    const essay = `${ESSAY}\n\n`.repeat(5);
    const result = await embedPassages(embeddings, essay);
    expect(result.passages.length).toBeGreaterThan(1);
    for (const p of result.passages) {
      expect(essay.slice(p.start, p.end)).toBe(p.text);
      expect(embeddings.countTokens(p.text)).toBeLessThanOrEqual(254);
    }
    expect(l2Norm(result.vector)).toBeCloseTo(1, 5);
    expect(result.provider).toBe('minilm-onnx');
  });

  test('a missing model folder is a clear error', async () => {
    await expect(MiniLmEmbeddings.create({ modelDir: '/nonexistent/minilm' })).rejects.toThrow(
      /all-minilm-l6-v2\.onnx is missing.*MINILM_MODEL_DIR/,
    );
  });
});
