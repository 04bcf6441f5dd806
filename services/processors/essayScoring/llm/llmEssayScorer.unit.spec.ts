import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../../../../test/support/fakeOpenAI';
import type { EssayToScore } from '../essayScore';
import { LlmEssayScorer, LlmNotApplicableError, type LlmEssayScorerOptions } from './llmEssayScorer';
import { InvalidPriceTableError, parsePriceTable } from '../../openai/pricing';
import { PROMPT_VERSION } from './prompt';
import { CircuitOpenError, ProviderAbortedError, ProviderCallFailedError } from '../../openai/resilience';

// The real SDK over real HTTP against the fake OpenAI server; only the provider is fake.

interface CatalogQuestion {
  slug: string;
  prompt: string;
  rubric: EssayRubric;
  weight: number;
}
const catalog = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'cli', 'demo', 'catalog.json'), 'utf8')) as {
  roles: { questions: CatalogQuestion[] }[];
};
const question = catalog.roles.flatMap((r) => r.questions).find((q) => q.slug === 'data-analyst-q9')!;

const ESSAY = [
  'First I would ask the manager which metric dropped: revenue, units or orders, and compared with what — last month or the same month last year, since seasonality matters.',
  'I would request transaction-level sales by product, region, channel and customer type for the last 24 months.',
  '',
  'Before trusting the drop I would check that last month’s data is complete: late-arriving loads, duplicates, and a change in how “returns” are recorded.',
  'Then I would decompose revenue into volume × price and new vs returning customers, and check promotions, price changes and stock-outs.',
  'Finally I would present a one-page summary with the main driver, its size, and a recommendation.',
].join('\n');

const PRICES = '{"gpt-4o-mini":{"input_per_million":15,"output_per_million":60}}';

const essay = (over: Partial<EssayToScore> = {}): EssayToScore => ({
  question_id: 'q-data-analyst-9',
  prompt: question.prompt,
  rubric: question.rubric,
  max_score: question.weight,
  text: ESSAY,
  ...over,
});

let fake: FakeOpenAI;
const scorers: LlmEssayScorer[] = [];

function scorer(over: Partial<LlmEssayScorerOptions> = {}): LlmEssayScorer {
  const s = new LlmEssayScorer({
    apiKey: 'test-key',
    baseURL: fake.url,
    model: 'gpt-4o-mini',
    timeoutMs: 2_000,
    retryBaseMs: 20,
    prices: PRICES,
    random: () => 1, // deterministic backoff: base × 2^(n−1)
    ...over,
  });
  scorers.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<ProviderCallFailedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderCallFailedError);
  return err as ProviderCallFailedError;
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'test-key' });
});
afterEach(async () => {
  for (const s of scorers.splice(0)) await s.close();
  fake.reset();
  fake.setDefaultChat({ kind: 'reply' });
});
afterAll(async () => {
  await fake.close();
});

describe('LlmEssayScorer against the fake OpenAI server', () => {
  describe('a good reply', () => {
    it('becomes a score with per-criterion bands, verbatim evidence, tokens, cost and latency', async () => {
      fake.enqueueChat({
        kind: 'reply',
        choose: { problem_framing: 4, analysis_approach: 2, data_quality: 3, communication: 0 },
      });
      const outcome = await scorer().scoreDetailed(essay());
      const r = outcome.result;

      // weights 1, 2, 1, 1; max band 4: (1·4/4 + 2·2/4 + 1·3/4 + 1·0/4) / 5 × 5 = 2.75
      expect(r.score).toBe(2.75);
      expect(r.max_score).toBe(5);
      expect(r.criteria.map((c) => [c.criterion_id, c.band_score, c.max_band_score])).toEqual([
        ['problem_framing', 4, 4],
        ['analysis_approach', 2, 4],
        ['data_quality', 3, 4],
        ['communication', 0, 4],
      ]);
      for (const c of r.criteria) {
        expect(c.evidence.length).toBeGreaterThan(10);
        expect(ESSAY.includes(c.evidence)).toBe(true);
        expect(c.rationale).not.toBe('');
      }
      expect(r.rationale).not.toBe('');
      expect(r).toMatchObject({
        provider: 'openai',
        model: 'gpt-4o-mini',
        prompt_version: PROMPT_VERSION,
        degraded: false,
        flags: [],
        needs_review: false,
      });

      const served = fake.requests[0]!;
      expect(r.tokens_in).toBe(served.usage!.prompt_tokens);
      expect(r.tokens_out).toBe(served.usage!.completion_tokens);
      expect(r.tokens_in).toBeGreaterThan(100);
      const expectedCents = (served.usage!.prompt_tokens * 15 + served.usage!.completion_tokens * 60) / 1e6;
      expect(r.cost_cents).toBeCloseTo(expectedCents, 6);
      expect(outcome.cost_known).toBe(true);
      expect(r.latency_ms).toBeGreaterThanOrEqual(0);
      expect(outcome.attempts).toBe(1);
      expect(fake.stats().calls.chat).toBe(1);
    });

    it('sends temperature 0, a strict schema enumerating criteria and bands, and the essay delimited as data', async () => {
      await scorer().score(essay());
      const body = fake.requests[0]!.body as ChatRequestBody;
      expect(body.model).toBe('gpt-4o-mini');
      expect(body.temperature).toBe(0);
      expect(body.response_format?.type).toBe('json_schema');
      expect(body.response_format?.json_schema?.strict).toBe(true);
      const schema = body.response_format!.json_schema!.schema as {
        properties: { criteria: { required: string[]; properties: Record<string, { properties: { band: unknown } }> } };
      };
      expect(schema.properties.criteria.required).toEqual([
        'problem_framing',
        'analysis_approach',
        'data_quality',
        'communication',
      ]);
      expect(schema.properties.criteria.properties.data_quality!.properties.band).toEqual({
        type: 'integer',
        enum: [0, 1, 2, 3, 4],
      });
      const [system, user] = body.messages;
      expect(system!.role).toBe('system');
      expect(system!.content).toMatch(/never instructions/);
      expect(user!.content).toContain(question.prompt);
      expect(user!.content).toContain('Criterion "analysis_approach" (weight 2)');
      expect(user!.content).toMatch(/<essay-[0-9a-f]{16}>\n[\s\S]*\n<\/essay-[0-9a-f]{16}>$/);
      expect(user!.content).toContain(ESSAY);
    });

    it('keeps the exact essay substring when the model straightens quotes and reflows whitespace', async () => {
      fake.enqueueChat({ kind: 'reply', perturbQuotes: true });
      const r = await scorer().score(essay());
      for (const c of r.criteria) expect(ESSAY.includes(c.evidence)).toBe(true);
      expect(r.criteria.find((c) => c.criterion_id === 'data_quality')!.evidence).toContain('last month’s data');
    });

    it('records the model that answered (a dated snapshot is priced as its base model)', async () => {
      const snapshotFake = await startFakeOpenAI({ modelSnapshotSuffix: '-2024-07-18' });
      try {
        const outcome = await scorer({ baseURL: snapshotFake.url }).scoreDetailed(essay());
        expect(outcome.result.model).toBe('gpt-4o-mini-2024-07-18');
        expect(outcome.cost_known).toBe(true);
        expect(outcome.result.cost_cents).toBeGreaterThan(0);
      } finally {
        await snapshotFake.close();
      }
    });

    it('reports cost 0 (cost_known false) for a model missing from the price table', async () => {
      const warn = jest.fn();
      const logger = { warn } as unknown as LlmEssayScorerOptions['logger'];
      const outcome = await scorer({ model: 'some-local-model', logger }).scoreDetailed(essay());
      expect(outcome.result.cost_cents).toBe(0);
      expect(outcome.cost_known).toBe(false);
      expect(warn).toHaveBeenCalledWith({ model: 'some-local-model' }, expect.stringMatching(/no price/));
    });
  });

  describe('transient failures are retried', () => {
    it('waits as long as a 429 Retry-After says, then succeeds', async () => {
      fake.enqueueChat({ kind: 'error', status: 429, retryAfterSeconds: 1 });
      const started = Date.now();
      const outcome = await scorer().scoreDetailed(essay());
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(1_800);
      expect(outcome.attempts).toBe(2);
      expect(outcome.failed_attempts).toEqual(['rate_limited']);
      const [first, second] = fake.requests;
      expect(second!.received_at - first!.received_at).toBeGreaterThanOrEqual(950);
    });

    it('honours retry-after-ms on a 503, capped by the max wait', async () => {
      fake.enqueueChat(
        { kind: 'error', status: 503, retryAfterMs: 300 },
        { kind: 'error', status: 503, retryAfterMs: 60_000 },
      );
      const outcome = await scorer({ retryMaxWaitMs: 400 }).scoreDetailed(essay());
      const [a, b, c] = fake.requests;
      expect(b!.received_at - a!.received_at).toBeGreaterThanOrEqual(290);
      expect(c!.received_at - b!.received_at).toBeGreaterThanOrEqual(390);
      expect(c!.received_at - b!.received_at).toBeLessThan(1_000);
      expect(outcome.attempts).toBe(3);
    });

    it('retries 500s with exponential backoff, then succeeds', async () => {
      fake.enqueueChat({ kind: 'error', status: 500 }, { kind: 'error', status: 500 }, { kind: 'error', status: 502 });
      const outcome = await scorer({ retryBaseMs: 50 }).scoreDetailed(essay());
      expect(outcome.attempts).toBe(4);
      expect(outcome.failed_attempts).toEqual(['server_error', 'server_error', 'server_error']);
      const at = fake.requests.map((r) => r.received_at);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      // base 50 ms, jitter pinned to its top: 50, 100, 200
      expect(gaps[0]).toBeGreaterThanOrEqual(45);
      expect(gaps[1]).toBeGreaterThanOrEqual(95);
      expect(gaps[2]).toBeGreaterThanOrEqual(195);
      expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    });

    it('gives up with a typed failure after 5 attempts', async () => {
      fake.setDefaultChat({ kind: 'error', status: 500 });
      const err = await failure(scorer().score(essay()));
      expect(err.attempts).toBe(5);
      expect(err.failures.map((f) => f.kind)).toEqual(Array(5).fill('server_error'));
      expect(err.lastFailure?.status).toBe(500);
      expect(fake.stats().calls.chat).toBe(5);
    });

    it('retries a reply slower than the client timeout', async () => {
      fake.enqueueChat({ kind: 'delay', ms: 1_500 });
      const outcome = await scorer({ timeoutMs: 200 }).scoreDetailed(essay());
      expect(outcome.failed_attempts).toEqual(['timeout']);
      expect(outcome.attempts).toBe(2);
      expect(outcome.result.latency_ms).toBeGreaterThanOrEqual(200);
    });

    it('retries a dropped connection', async () => {
      fake.enqueueChat({ kind: 'drop_connection' });
      const outcome = await scorer().scoreDetailed(essay());
      expect(outcome.failed_attempts).toEqual(['connection']);
    });
  });

  describe('unusable replies are failed attempts, never scores', () => {
    it.each([
      ['malformed_json', 'malformed_reply'],
      ['schema_violation', 'schema_violation'],
      ['invalid_band', 'invalid_band'],
      ['invented_quote', 'invented_quote'],
      ['truncated', 'truncated'],
    ] as const)('%s → %s', async (behaviour, kind) => {
      fake.setDefaultChat({ kind: behaviour });
      const err = await failure(scorer({ maxAttempts: 3 }).score(essay()));
      expect(err.attempts).toBe(3);
      expect(err.failures.map((f) => f.kind)).toEqual([kind, kind, kind]);
      // they were billed: the failure says how many tokens were spent on nothing
      expect(err.usage.tokens_in).toBeGreaterThan(0);
      expect(fake.stats().calls.chat).toBe(3);
    });

    it('retries past one bad reply and counts its tokens in the result', async () => {
      fake.enqueueChat({ kind: 'invented_quote' });
      const outcome = await scorer().scoreDetailed(essay());
      expect(outcome.failed_attempts).toEqual(['invented_quote']);
      const billed = fake.requests.reduce((s, r) => s + r.usage!.prompt_tokens, 0);
      expect(outcome.result.tokens_in).toBe(billed);
      for (const c of outcome.result.criteria) expect(ESSAY.includes(c.evidence)).toBe(true);
    });

    it('accepts empty evidence only for the lowest band', async () => {
      const reply = (band: number) => ({
        kind: 'custom' as const,
        handle: (body: ChatRequestBody) => {
          const ids = (
            body.response_format!.json_schema!.schema as { properties: { criteria: { required: string[] } } }
          ).properties.criteria.required;
          const content = JSON.stringify({
            criteria: Object.fromEntries(ids.map((id) => [id, { evidence: '', rationale: 'Nothing relevant.', band }])),
            overall_rationale: 'Off topic.',
          });
          return {
            body: {
              id: 'chatcmpl-x',
              object: 'chat.completion',
              created: 0,
              model: body.model,
              choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
            },
          };
        },
      });
      fake.enqueueChat(reply(0));
      const r = await scorer().score(essay());
      expect(r.score).toBe(0);
      expect(r.criteria.every((c) => c.evidence === '')).toBe(true);

      fake.enqueueChat(reply(3));
      const err = await failure(scorer({ maxAttempts: 1 }).score(essay()));
      expect(err.failures[0]!.kind).toBe('missing_evidence');
    });

    it('does not retry a refusal', async () => {
      fake.setDefaultChat({ kind: 'refusal' });
      const err = await failure(scorer().score(essay()));
      expect(err.attempts).toBe(1);
      expect(err.failures[0]!.kind).toBe('refusal');
    });
  });

  describe('non-retryable errors fail at once', () => {
    it('401: a wrong API key is not retried', async () => {
      const err = await failure(scorer({ apiKey: 'wrong-key' }).score(essay()));
      expect(err.attempts).toBe(1);
      expect(err.failures[0]).toMatchObject({ kind: 'client_error', status: 401, retryable: false });
      expect(fake.stats().calls.chat).toBe(1);
    });

    it.each([400, 403, 404])('%i is not retried', async (status) => {
      fake.enqueueChat({ kind: 'error', status });
      const err = await failure(scorer().score(essay()));
      expect(err.attempts).toBe(1);
      expect(err.failures[0]!.status).toBe(status);
    });
  });

  describe('the circuit breaker', () => {
    it('opens after consecutive failed calls, fails fast, half-opens after the reset timeout and closes on success', async () => {
      const s = scorer({ maxAttempts: 1, breakerFailures: 3, breakerResetMs: 400 });
      fake.setDefaultChat({ kind: 'error', status: 503 });
      for (let i = 0; i < 3; i += 1) {
        expect(s.breakerState()).toBe('closed');
        await failure(s.score(essay()));
      }
      expect(s.breakerState()).toBe('open');
      expect(fake.stats().calls.chat).toBe(3);

      const started = Date.now();
      await expect(s.score(essay())).rejects.toBeInstanceOf(CircuitOpenError);
      await expect(s.score(essay())).rejects.toBeInstanceOf(CircuitOpenError);
      expect(Date.now() - started).toBeLessThan(50);
      expect(fake.stats().calls.chat).toBe(3); // nothing reached the server

      fake.setDefaultChat({ kind: 'reply' }); // the provider recovers
      await new Promise((r) => setTimeout(r, 450));
      expect(s.breakerState()).toBe('half_open');
      const r = await s.score(essay());
      expect(r.score).toBe(5);
      expect(s.breakerState()).toBe('closed');
      expect(fake.stats().calls.chat).toBe(4);
    });

    it('counts consecutive failures only: a success in between resets the count', async () => {
      const s = scorer({ maxAttempts: 1, breakerFailures: 2 });
      fake.enqueueChat({ kind: 'error', status: 500 }, { kind: 'reply' }, { kind: 'error', status: 500 });
      await failure(s.score(essay()));
      await s.score(essay());
      await failure(s.score(essay()));
      expect(s.breakerState()).toBe('closed');
    });

    it('reopens when the half-open probe fails', async () => {
      const s = scorer({ maxAttempts: 1, breakerFailures: 1, breakerResetMs: 200 });
      fake.setDefaultChat({ kind: 'error', status: 500 });
      await failure(s.score(essay()));
      expect(s.breakerState()).toBe('open');
      await new Promise((r) => setTimeout(r, 250));
      expect(s.breakerState()).toBe('half_open');
      await failure(s.score(essay()));
      expect(s.breakerState()).toBe('open');
      await expect(s.score(essay())).rejects.toBeInstanceOf(CircuitOpenError);
      expect(fake.stats().calls.chat).toBe(2);
    });

    it('counts a whole call (all its retries) as one failure', async () => {
      const s = scorer({ maxAttempts: 3, breakerFailures: 2 });
      fake.setDefaultChat({ kind: 'error', status: 500 });
      await failure(s.score(essay()));
      expect(s.breakerState()).toBe('closed');
      await failure(s.score(essay()));
      expect(s.breakerState()).toBe('open');
      expect(fake.stats().calls.chat).toBe(6);
    });
  });

  describe('cancellation and applicability', () => {
    it('stops at once when the caller aborts, and does not count it against the provider', async () => {
      const s = scorer({ breakerFailures: 1 });
      fake.enqueueChat({ kind: 'delay', ms: 1_500 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      await expect(s.score(essay(), { signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
      expect(Date.now() - started).toBeLessThan(800);
      expect(s.breakerState()).toBe('closed');
    });

    it('aborts a backoff wait too', async () => {
      fake.enqueueChat({ kind: 'error', status: 429, retryAfterSeconds: 5 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      await expect(scorer().score(essay(), { signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(fake.stats().calls.chat).toBe(1);
    });

    it('does not apply to a question without a rubric (the offline scorer handles it)', async () => {
      await expect(scorer().score(essay({ rubric: null }))).rejects.toBeInstanceOf(LlmNotApplicableError);
      expect(fake.stats().calls.chat).toBe(0);
    });
  });
});

describe('parsePriceTable', () => {
  it('reads cents per million tokens per model', () => {
    expect(parsePriceTable(PRICES)).toEqual({ 'gpt-4o-mini': { input_per_million: 15, output_per_million: 60 } });
  });
  it.each(['not json', '[]', '{"m":{"input_per_million":-1,"output_per_million":1}}', '{"m":{"input":1}}'])(
    'refuses %s',
    (text) => {
      expect(() => parsePriceTable(text)).toThrow(InvalidPriceTableError);
    },
  );
});
