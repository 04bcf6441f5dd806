import { EMBEDDING_DIMENSIONS } from './embeddings';
import { LEXICAL_MODEL, LexicalEmbeddings, lexicalVector } from './lexicalEmbeddings';
import { cosine } from './vectors';

const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('LexicalEmbeddings', () => {
  const embeddings = new LexicalEmbeddings();

  test('says it is the degraded lexical provider, one vector per text in order', async () => {
    const batch = await embeddings.embed(['alpha beta', 'gamma']);
    expect(batch.provider).toBe('lexical');
    expect(batch.model).toBe(LEXICAL_MODEL);
    expect(batch.degraded).toBe(true);
    expect(batch.vectors).toHaveLength(2);
    expect(Array.from(batch.vectors[1]!)).toEqual(Array.from(lexicalVector('gamma')));
  });

  test('is deterministic: the same text gives the same vector, across instances', async () => {
    const text = 'Event sourcing keeps every change as an immutable event.';
    const a = (await embeddings.embed([text])).vectors[0]!;
    const b = (await new LexicalEmbeddings().embed([text])).vectors[0]!;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  test.each([
    ['empty', ''],
    ['blank', '   '],
    ['punctuation only', '!!!'],
    ['one word', 'word'],
    ['non-ASCII', 'Ünïcödé text 123'],
    ['10,000 characters', 'x'.repeat(10_000)],
  ])('a %s text has a unit-length 384-dimension vector', (_label, text) => {
    const v = lexicalVector(text);
    expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(norm(v)).toBeCloseTo(1, 5);
  });

  test('ignores case and punctuation', () => {
    expect(cosine(lexicalVector('Kafka Transactions!'), lexicalVector('kafka transactions'))).toBeCloseTo(1, 6);
  });

  test('puts similar texts closer than unrelated ones', () => {
    const a = lexicalVector('The decider writes events to Kafka inside a transaction.');
    const similar = lexicalVector('Deciders write their events to Kafka in transactions.');
    const unrelated = lexicalVector('My grandmother bakes apple pies every Sunday afternoon.');
    expect(cosine(a, similar)).toBeGreaterThan(cosine(a, unrelated) + 0.2);
  });

  test('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(embeddings.embed(['x'], { signal: controller.signal })).rejects.toThrow();
  });
});
