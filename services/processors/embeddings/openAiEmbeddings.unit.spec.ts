import { startFakeOpenAI, type EmbeddingsRequestBody, type FakeOpenAI } from '../../../test/support/fakeOpenAI';
import { ProviderCallFailedError } from '../openai/resilience';
import { EMBEDDING_DIMENSIONS } from './embeddings';
import { OpenAiEmbeddings, type OpenAiEmbeddingsOptions } from './openAiEmbeddings';
import { cosine, l2Norm } from './vectors';

// The real SDK over real HTTP against the fake OpenAI server.

let fake: FakeOpenAI;
const adapters: OpenAiEmbeddings[] = [];

function embeddings(over: Partial<OpenAiEmbeddingsOptions> = {}): OpenAiEmbeddings {
  const e = new OpenAiEmbeddings({ apiKey: 'test-key', baseURL: fake.url, retryBaseMs: 10, timeoutMs: 2_000, ...over });
  adapters.push(e);
  return e;
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'test-key' });
});
afterEach(async () => {
  for (const a of adapters.splice(0)) await a.close();
  fake.reset();
  fake.setDefaultEmbeddings({ kind: 'reply' });
});
afterAll(async () => {
  await fake.close();
});

describe('OpenAiEmbeddings against the fake OpenAI server', () => {
  it('returns one 384-d unit vector per text, in order, marked openai and not degraded', async () => {
    const texts = ['SQL window functions', 'Kubernetes rollouts', 'SQL window functions'];
    const batch = await embeddings().embed(texts);
    expect(batch).toMatchObject({ provider: 'openai', model: 'text-embedding-3-small', degraded: false });
    expect(batch.vectors).toHaveLength(3);
    for (const v of batch.vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(l2Norm(v)).toBeCloseTo(1, 5);
    }
    expect(cosine(batch.vectors[0]!, batch.vectors[2]!)).toBeCloseTo(1, 6);
    expect(cosine(batch.vectors[0]!, batch.vectors[1]!)).toBeLessThan(0.5);

    const body = fake.requests[0]!.body as EmbeddingsRequestBody;
    expect(body).toMatchObject({
      model: 'text-embedding-3-small',
      dimensions: 384,
      encoding_format: 'float',
      input: texts,
    });
  });

  it('splits large inputs into batches of maxBatchSize and keeps the order', async () => {
    const texts = ['a one', 'b two', 'c three', 'd four', 'e five'];
    const batched = await embeddings({ maxBatchSize: 2 }).embed(texts);
    expect(fake.stats().calls.embeddings).toBe(3);
    expect(fake.requests.map((r) => (r.body as EmbeddingsRequestBody).input)).toEqual([
      ['a one', 'b two'],
      ['c three', 'd four'],
      ['e five'],
    ]);
    const whole = await embeddings().embed(texts);
    batched.vectors.forEach((v, i) => expect(cosine(v, whole.vectors[i]!)).toBeCloseTo(1, 6));
  });

  it('sends an empty text as a single space (the API refuses empty strings)', async () => {
    const batch = await embeddings().embed(['', 'text']);
    expect(batch.vectors).toHaveLength(2);
    expect((fake.requests[0]!.body as EmbeddingsRequestBody).input).toEqual([' ', 'text']);
  });

  it('answers an empty list without calling the API', async () => {
    expect((await embeddings().embed([])).vectors).toEqual([]);
    expect(fake.stats().calls.embeddings).toBe(0);
  });

  it('retries 429 and 5xx with the shared policy', async () => {
    fake.enqueueEmbeddings({ kind: 'error', status: 429, retryAfterMs: 50 }, { kind: 'error', status: 500 });
    const batch = await embeddings().embed(['retry me']);
    expect(batch.vectors).toHaveLength(1);
    expect(fake.stats().calls.embeddings).toBe(3);
  });

  it('refuses vectors of the wrong dimension without retrying', async () => {
    fake.enqueueEmbeddings({ kind: 'wrong_dimensions', dimensions: 1536 });
    const err = await embeddings()
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderCallFailedError);
    expect((err as ProviderCallFailedError).failures.map((f) => f.kind)).toEqual(['invalid_embedding']);
    expect(fake.stats().calls.embeddings).toBe(1);
  });

  it('does not retry a 401', async () => {
    const err = await embeddings({ apiKey: 'wrong' })
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderCallFailedError);
    expect((err as ProviderCallFailedError).attempts).toBe(1);
    expect((err as ProviderCallFailedError).lastFailure?.status).toBe(401);
  });

  it('opens its circuit after consecutive failed calls', async () => {
    fake.setDefaultEmbeddings({ kind: 'error', status: 503 });
    const e = embeddings({ maxAttempts: 1, breakerFailures: 2 });
    await e.embed(['x']).catch(() => undefined);
    await e.embed(['x']).catch(() => undefined);
    expect(e.breakerState()).toBe('open');
    await expect(e.embed(['x'])).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(fake.stats().calls.embeddings).toBe(2);
  });

  it('decodes base64 vectors too (what the SDK asks for when no encoding_format is given)', async () => {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 384 });
    expect((fake.requests[0]!.body as EmbeddingsRequestBody).encoding_format).toBe('base64');
    expect(res.data[0]!.embedding).toHaveLength(384);
    expect(l2Norm(res.data[0]!.embedding)).toBeCloseTo(1, 5);
  });
});
