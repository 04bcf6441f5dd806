import pino from 'pino';
import type { EmbeddingBatch, Embeddings } from './embeddings';
import { AllEmbeddingsFailedError, createEmbeddings, FallbackEmbeddings } from './fallbackEmbeddings';
import { LexicalEmbeddings } from './lexicalEmbeddings';

/** An adapter of our own port whose provider is down. */
class DownEmbeddings implements Embeddings {
  calls = 0;
  closed = false;
  constructor(private readonly reason = 'provider down') {}
  async embed(): Promise<EmbeddingBatch> {
    this.calls++;
    throw new Error(this.reason);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An adapter that answers with fixed unit vectors, as a non-degraded provider. */
class ConstantEmbeddings implements Embeddings {
  calls = 0;
  readonly maxTokens: number;
  constructor(maxTokens = 8191) {
    this.maxTokens = maxTokens;
  }
  countTokens(text: string): number {
    return text.length;
  }
  async embed(texts: string[]): Promise<EmbeddingBatch> {
    this.calls++;
    const vectors = texts.map(() => {
      const v = new Float32Array(384);
      v[0] = 1;
      return v;
    });
    return { vectors, provider: 'openai', model: 'constant', degraded: false };
  }
  async close(): Promise<void> {}
}

const silent = pino({ level: 'silent' });

describe('FallbackEmbeddings', () => {
  test('the first adapter that answers wins; later ones are not asked', async () => {
    const first = new ConstantEmbeddings();
    const second = new ConstantEmbeddings();
    const batch = await new FallbackEmbeddings([first, second], silent).embed(['a']);
    expect(batch).toMatchObject({ provider: 'openai', degraded: false });
    expect([first.calls, second.calls]).toEqual([1, 0]);
  });

  test('a failing adapter falls through to the next, down to the degraded lexical one', async () => {
    const down = new DownEmbeddings();
    const alsoDown = new DownEmbeddings();
    const batch = await new FallbackEmbeddings([down, alsoDown, new LexicalEmbeddings()], silent).embed(['a', 'b']);
    expect(batch).toMatchObject({ provider: 'lexical', model: 'lexical-hash-v1', degraded: true });
    expect(batch.vectors).toHaveLength(2);
    expect([down.calls, alsoDown.calls]).toEqual([1, 1]);
  });

  test('when every adapter fails it says why, for each one', async () => {
    const chain = new FallbackEmbeddings([new DownEmbeddings('quota'), new DownEmbeddings('crashed')], silent);
    const error = await chain.embed(['a']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllEmbeddingsFailedError);
    expect((error as Error).message).toMatch(/quota.*crashed/);
  });

  test('an aborted call does not fall through', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gave up'));
    const lexical = new LexicalEmbeddings();
    await expect(new FallbackEmbeddings([lexical], silent).embed(['a'], { signal: controller.signal })).rejects.toThrow(
      'gave up',
    );
  });

  test('exposes the narrowest window of the chain for passage splitting', () => {
    const chain = new FallbackEmbeddings([
      new ConstantEmbeddings(8191),
      new ConstantEmbeddings(256),
      new LexicalEmbeddings(),
    ]);
    expect(chain.maxTokens).toBe(256);
    expect(chain.countTokens?.('abcd')).toBe(4);
    expect(new FallbackEmbeddings([new LexicalEmbeddings()]).maxTokens).toBeUndefined();
  });

  test('close closes every adapter', async () => {
    const down = new DownEmbeddings();
    await new FallbackEmbeddings([down, new LexicalEmbeddings()]).close();
    expect(down.closed).toBe(true);
  });
});

describe('createEmbeddings', () => {
  test('without the model on disk the chain still answers, degraded, and logs why', async () => {
    const errors: unknown[] = [];
    const logger = { warn: () => undefined, info: () => undefined, error: (o: unknown) => void errors.push(o) };
    const embeddings = await createEmbeddings({ modelDir: '/nonexistent/minilm', logger });
    try {
      expect(await embeddings.embed(['a'])).toMatchObject({ provider: 'lexical', degraded: true });
      expect(errors).toHaveLength(1);
    } finally {
      await embeddings.close();
    }
  });

  test('a configured OpenAI adapter comes first', async () => {
    const openai = new ConstantEmbeddings();
    const embeddings = await createEmbeddings({ modelDir: '/nonexistent/minilm', openai, logger: silent });
    expect((await embeddings.embed(['a'])).provider).toBe('openai');
    await embeddings.close();
  });
});
