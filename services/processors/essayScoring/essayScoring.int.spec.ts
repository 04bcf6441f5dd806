import { randomUUID } from 'node:crypto';
import { idFromKey } from '../../../domain/shared/ids';
import { createRoleWithQuestions, essayAnswer, type RoleFixture } from '../../../test/support/catalogFixture';
import { essayJobOf, essayScoreOf, eventCount, submitWithEssay } from '../../../test/support/essays';
import { scoringReply, startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../../../test/support/fakeOpenAI';
import { eventually } from '../../../test/support/platform';
import { spawnMicrocred } from '../../../test/support/processes';
import { startTestSystem, type TestSystem } from '../../../test/support/system';
import { createCommandClient } from '../../messaging/commandClient';
import { MessageCodec } from '../../messaging/messageCodec';

jest.setTimeout(180_000);

/** The price table the systems below run with: cents per million tokens. */
const PRICES = { 'gpt-4o-mini': { input_per_million: 15, output_per_million: 60 } };
const costOf = (tokensIn: number, tokensOut: number) => (tokensIn * 15 + tokensOut * 60) / 1e6;

function llmEnv(fake: FakeOpenAI, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-test-not-a-real-key',
    OPENAI_BASE_URL: fake.url,
    LLM_MODEL: 'gpt-4o-mini',
    LLM_PRICES: JSON.stringify(PRICES),
    LLM_MAX_ATTEMPTS: '3',
    LLM_RETRY_BASE_MS: '20',
    LLM_TIMEOUT_MS: '1500',
    LLM_BREAKER_FAILURES: '2',
    LLM_BREAKER_RESET_MS: '3000',
    PROCESSOR_POLL_MS: '100',
    ...overrides,
  };
}

function expectEvidenceQuoted(row: { criteria: { evidence: string }[] }, essay: string) {
  for (const c of row.criteria) {
    if (c.evidence !== '') expect(essay).toContain(c.evidence);
  }
}

describe('essay scoring with an LLM (a local server speaking the OpenAI protocol)', () => {
  let fake: FakeOpenAI;
  let sys: TestSystem;
  let role: RoleFixture;
  let token: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startTestSystem(llmEnv(fake));
    // No credential teaches the role, so no rationale call reaches the fake: every call is an essay's.
    role = await createRoleWithQuestions(sys, { credential: false });
    token = (await sys.registerAndLogin('student')).token;
  });
  afterAll(async () => {
    await sys?.stop();
    await fake?.close();
  });

  test('every essay is scored by the LLM once, with tokens, cost, latency and quoted evidence', async () => {
    const before = fake.stats().calls.chat;
    const id = await submitWithEssay(sys, role, token, essayAnswer);
    const row = await essayScoreOf(sys, id);
    expect(row).toMatchObject({ status: 'scored', provider: 'openai', degraded: false, model: 'gpt-4o-mini' });
    expect(row.prompt_version).toMatch(/^essay-v\d+$/);
    expect(row.score).toBeGreaterThanOrEqual(0);
    expect(row.score).toBeLessThanOrEqual(row.max_score!);
    expect(row.tokens_in).toBeGreaterThan(0);
    expect(row.tokens_out).toBeGreaterThan(0);
    expect(row.cost_cents).toBeCloseTo(costOf(row.tokens_in!, row.tokens_out!), 2);
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(row.criteria.length).toBeGreaterThan(0);
    expectEvidenceQuoted(row, essayAnswer);
    expect(fake.stats().calls.chat - before).toBe(1);
    expect(await eventCount(sys, id, 'EssayScored', row.version)).toBe(1);
    expect(await essayJobOf(sys, id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // The prompt carried the essay as data, with the question and its rubric.
    const request = fake.requests[fake.requests.length - 1]!.body as { messages: { content: string }[] };
    expect(JSON.stringify(request.messages)).toContain('rolling update');
  });

  test('429 with Retry-After is honoured, then the LLM scores it', async () => {
    fake.enqueueChat({ kind: 'error', status: 429, retryAfterSeconds: 1 });
    const from = fake.requests.length;
    const id = await submitWithEssay(sys, role, token, essayAnswer);
    const row = await essayScoreOf(sys, id);
    expect(row).toMatchObject({ provider: 'openai', degraded: false });
    const [limited, retried] = fake.requests.slice(from);
    expect(limited!.status).toBe(429);
    expect(retried!.status).toBe(200);
    expect(retried!.received_at - limited!.received_at).toBeGreaterThanOrEqual(950);
  });

  test('malformed JSON, an invented quote and a timeout are failed attempts, never a score', async () => {
    fake.enqueueChat({ kind: 'malformed_json' }, { kind: 'invented_quote' });
    const from = fake.requests.length;
    const id = await submitWithEssay(sys, role, token, essayAnswer);
    const row = await essayScoreOf(sys, id);
    expect(row).toMatchObject({ provider: 'openai', degraded: false });
    expectEvidenceQuoted(row, essayAnswer);
    expect(fake.requests.slice(from).map((r) => r.behaviour)).toEqual(['malformed_json', 'invented_quote', 'reply']);

    fake.enqueueChat({ kind: 'delay', ms: 4000 });
    const slow = await submitWithEssay(sys, role, token, essayAnswer);
    expect(await essayScoreOf(sys, slow)).toMatchObject({ provider: 'openai', degraded: false });
  });

  test('a failing LLM falls back to the offline scorer (degraded); the breaker opens, then closes', async () => {
    // Three 500s: every attempt of one call fails, so the offline scorer answers.
    fake.enqueueChat(...Array.from({ length: 3 }, () => ({ kind: 'error' as const, status: 500 })));
    const first = await submitWithEssay(sys, role, token, essayAnswer);
    const offline = await essayScoreOf(sys, first);
    expect(offline).toMatchObject({ status: 'scored', provider: 'offline', degraded: true, cost_cents: 0 });
    expect(offline.rationale).toMatch(/Scored offline: the LLM failed/);
    // The assessment says so too (its read model is a projection of its own: it may lag a moment).
    await eventually(async () => {
      const assessment = await sys.request('GET', `/api/v1/assessments/${first}`, { token });
      return assessment.body.degraded === true ? true : undefined;
    });

    // A second failed call in a row opens the circuit...
    fake.enqueueChat(...Array.from({ length: 3 }, () => ({ kind: 'error' as const, status: 503 })));
    expect(await essayScoreOf(sys, await submitWithEssay(sys, role, token, essayAnswer))).toMatchObject({
      provider: 'offline',
    });
    // ...so the next essay does not reach the provider at all.
    const calls = fake.stats().calls.chat;
    const fast = await essayScoreOf(sys, await submitWithEssay(sys, role, token, essayAnswer));
    expect(fast).toMatchObject({ provider: 'offline', degraded: true });
    expect(fast.rationale).toMatch(/circuit/i);
    expect(fake.stats().calls.chat).toBe(calls);

    // After the reset timeout one trial call goes through; it succeeds, and the circuit closes.
    await new Promise((r) => setTimeout(r, 3200));
    expect(await essayScoreOf(sys, await submitWithEssay(sys, role, token, essayAnswer))).toMatchObject({
      provider: 'openai',
      degraded: false,
    });
    expect(await essayScoreOf(sys, await submitWithEssay(sys, role, token, essayAnswer))).toMatchObject({
      provider: 'openai',
    });
  });
});

describe('a processor killed between the provider answer and its report', () => {
  test('re-does that one call, and the essay is scored once and charged once', async () => {
    const fake = await startFakeOpenAI();
    const env = llmEnv(fake, { PROCESSOR_LEASE_MS: '3000' });
    // This process decides, projects and serves; the processors run in a child we can kill.
    const sys = await startTestSystem({ ...env, ROLES: 'api,deciders,projections' });
    const children: ReturnType<typeof spawnMicrocred>[] = [];
    try {
      const role = await createRoleWithQuestions(sys, { credential: false });
      const { token } = await sys.registerAndLogin('student');
      const processorEnv = { ...sys.env, ...env, ROLES: 'processors', PORT: '0' };
      const first = spawnMicrocred({ ...processorEnv, INSTANCE_ID: `${sys.env.INSTANCE_ID}-p1` });
      children.push(first);
      await first.waitFor('processor started');
      // Kill the processor as soon as the provider's answer has left the server.
      fake.enqueueChat({
        kind: 'custom',
        handle: (body) => {
          setImmediate(() => first.child.kill('SIGKILL'));
          return { body: completionFor(body) };
        },
      });
      const id = await submitWithEssay(sys, role, token, essayAnswer);
      await eventually(async () => (first.child.signalCode === 'SIGKILL' ? true : undefined), 60_000, 'the kill');
      expect(fake.stats().calls.chat).toBe(1);
      expect(await eventCount(sys, id, 'EssayScored')).toBe(0);

      const second = spawnMicrocred({ ...processorEnv, INSTANCE_ID: `${sys.env.INSTANCE_ID}-p2` });
      children.push(second);
      const row = await essayScoreOf(sys, id, 90_000);
      await eventually(async () => ((await essayJobOf(sys, id))?.status === 'succeeded' ? true : undefined));
      expect(fake.stats().calls.chat).toBe(2); // the killed attempt's call, re-done once
      expect(await eventCount(sys, id, 'EssayScored', row.version)).toBe(1);
      expect(row.cost_cents).toBeCloseTo(costOf(row.tokens_in!, row.tokens_out!), 4); // one call's cost
      expect(await essayJobOf(sys, id)).toMatchObject({ attempts: 2 });
    } finally {
      await Promise.all(children.map((c) => c.kill('SIGKILL')));
      await sys.stop();
      await fake.close();
    }
  });
});

/** A chat completion carrying the fake's own valid scoring reply for `body`. */
function completionFor(body: ChatRequestBody) {
  const content = JSON.stringify(scoringReply(body, {}));
  const usage = { prompt_tokens: 800, completion_tokens: Math.ceil(content.length / 4) };
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

describe('essay scoring without an LLM', () => {
  let sys: TestSystem;
  let role: RoleFixture;
  let otherRole: RoleFixture;
  let token: string;

  beforeAll(async () => {
    sys = await startTestSystem({ PROCESSOR_POLL_MS: '100', ESSAY_CALIBRATION_MIN_EXAMPLES: '20' });
    role = await createRoleWithQuestions(sys);
    otherRole = await createRoleWithQuestions(sys);
    token = (await sys.registerAndLogin('student')).token;
  });
  afterAll(async () => {
    await sys?.stop();
  });

  test('the offline scorer scores it, marked degraded, with quoted evidence', async () => {
    const id = await submitWithEssay(sys, role, token, essayAnswer);
    const row = await essayScoreOf(sys, id);
    expect(row).toMatchObject({ status: 'scored', provider: 'offline', degraded: true, cost_cents: 0 });
    expect(row.rationale).toMatch(/no LLM is configured/);
    expect(row.score).toBeGreaterThan(0);
    expectEvidenceQuoted(row, essayAnswer);
    const { rows } = await sys.running.platform.pool.query(
      `SELECT provider, model, dimensions, octet_length(raw_embedding) AS bytes FROM embedding_artifacts
       WHERE entity_type = 'essay_response' AND entity_id = $1`,
      [idFromKey('essay-response', `${id}/${role.essay}`)],
    );
    expect(rows).toEqual([{ provider: 'minilm-onnx', model: 'all-MiniLM-L6-v2', dimensions: 384, bytes: 384 * 4 }]);
  });

  // Each at least the rubric's 50 words, so that it is accepted and reaches the scorer.
  const times = (text: string, n: number) => Array.from({ length: n }, () => text).join(' ');
  test.each([
    ['gibberish', times('asdkj qwpeoiru zmxncb lkajsd qwe poiu asdlkfj zxcmvn qwpoei ruty', 6)],
    ['the prompt copied back', times('Describe how you would roll out a risky change to a production cluster.', 4)],
    ['keyword stuffing', times('rollout canary kubernetes probes rollback alerts errors replicas', 7)],
  ])('%s is never rewarded', async (_case, text) => {
    const good = await essayScoreOf(sys, await submitWithEssay(sys, role, token, essayAnswer));
    const bad = await essayScoreOf(sys, await submitWithEssay(sys, role, token, text));
    expect(bad.score!).toBeLessThan(good.score!);
    expect(bad.score === 0 || bad.needs_review).toBe(true);
    expect(bad.flags.length).toBeGreaterThan(0);
  });

  test('calibration from human-scored examples changes that question’s scores, and only that one', async () => {
    const text = essayAnswer;
    const before = await essayScoreOf(sys, await submitWithEssay(sys, role, token, text));
    const otherBefore = await essayScoreOf(sys, await submitWithEssay(sys, otherRole, token, text));

    // Human markers of this question score rollout answers low and capacity-planning ones high.
    const low = (i: number) =>
      `I would use a rolling update with readiness probes and roll back on alerts, step ${i}, watching errors.`;
    const high = (i: number) =>
      `Plan capacity first: measure peak load, add ${i + 2} replicas of headroom, load-test the new version, then migrate data in stages with a tested backout plan.`;
    const examples = Array.from({ length: 14 }, (_, i) => [
      { text: low(i), score: 0.5 },
      { text: high(i), score: 5 },
    ]).flat();
    await importExamples(sys, role.essay, examples);

    const after = await essayScoreOf(sys, await submitWithEssay(sys, role, token, text));
    expect(after.model).toMatch(/calibrated/);
    expect(after.score!).toBeLessThan(before.score!);
    const otherAfter = await essayScoreOf(sys, await submitWithEssay(sys, otherRole, token, text));
    expect(otherAfter.score).toBe(otherBefore.score);
    expect(otherAfter.model).toBe(otherBefore.model);
  });
});

/** Sends ImportScoredExamples as an admin would, and waits for the examples' read model. */
async function importExamples(sys: TestSystem, questionId: string, examples: { text: string; score: number }[]) {
  const { platform } = sys.running;
  const client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'spec');
  try {
    const sent = await client.bus.send('catalog', {
      command_id: randomUUID(),
      type: 'ImportScoredExamples',
      aggregate_id: questionId,
      issued_at: new Date().toISOString(),
      actor: { id: 'system:spec', role: 'system' },
      correlation_id: randomUUID(),
      data: { question_id: questionId, import_id: randomUUID(), examples },
    });
    expect(sent).toMatchObject({ status: 'replied', reply: { outcome: 'accepted' } });
  } finally {
    await client.stop();
  }
  await eventually(async () => {
    const { rows } = await platform.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM essay_examples WHERE question_id = $1',
      [questionId],
    );
    return Number(rows[0]!.n) === examples.length ? true : undefined;
  });
}
