import { createRoleWithQuestions, roleNobodyTeaches, startAssessment } from '../../../test/support/catalogFixture';
import { eventCount, submitWithEssay } from '../../../test/support/essays';
import { loadDemo, searchIndexed, submitDemoAssessment, type DemoRole } from '../../../test/support/demoAssessment';
import { scoringReply, startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from '../../../test/support/fakeOpenAI';
import { eventually } from '../../../test/support/platform';
import { spawnMicrocred } from '../../../test/support/processes';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';
import { rationaleReply } from '../../../test/support/fakeOpenAI';
import { RATIONALE_SCHEMA_NAME } from './llm/rationaleReply';

jest.setTimeout(300_000);

const RESULT = '/assessments/{assessment_id}/result';
type Demo = Awaited<ReturnType<typeof loadDemo>>;

/* eslint-disable @typescript-eslint/no-explicit-any -- result bodies are read field by field; their shape is checked against the contract */

/** Polls GET /assessments/{id}/result until it is no longer 202; checks every answer against the contract. */
async function resultOf(sys: TestSystem, token: string, id: string, timeoutMs = 120_000): Promise<HttpResult> {
  return eventually(
    async () => {
      const res = await sys.request('GET', `/api/v1/assessments/${id}/result`, { token });
      expectMatchesContract('GET', RESULT, res);
      return res.status === 202 ? undefined : res;
    },
    timeoutMs,
    `the result of assessment ${id}`,
  );
}

async function completedResult(sys: TestSystem, token: string, id: string): Promise<any> {
  const res = await resultOf(sys, token, id);
  if (res.status !== 200) throw new Error(`result: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Every trace's snippet is its source's text at [start, end), read back through the catalog API. */
async function expectVerbatim(sys: TestSystem, token: string, traces: any[]): Promise<void> {
  expect(new Set(traces.map((t) => t.source_type))).toEqual(new Set(['credential', 'document']));
  for (const t of traces) {
    const document = t.source_type === 'document';
    const path = document ? `/catalog/documents/${t.source_id}` : `/catalog/credentials/${t.source_id}`;
    const source = await sys.request('GET', `/api/v1${path}`, { token });
    expectMatchesContract(
      'GET',
      document ? '/catalog/documents/{document_id}' : '/catalog/credentials/{credential_id}',
      source,
    );
    expect(source.status).toBe(200);
    const text: string = document ? source.body.text : source.body.description;
    expect(text.slice(t.start, t.end)).toBe(t.snippet);
  }
}

function expectCitationsExist(body: any): void {
  const traceIds = new Set(body.traces.map((t: any) => t.trace_id));
  for (const item of body.recommendation_items) {
    for (const id of item.source_trace_ids) expect(traceIds.has(id)).toBe(true);
  }
}

describe('recommendations over the demo catalog (offline: no LLM)', () => {
  let sys: TestSystem;
  let token: string;
  let demo: Demo;

  beforeAll(async () => {
    sys = await startTestSystem({ PROCESSOR_POLL_MS: '100' });
    demo = await loadDemo(sys);
    await searchIndexed(sys, demo.credentials.length);
    token = (await sys.registerAndLogin('student')).token;
  });
  afterAll(async () => {
    await sys?.stop();
  });

  test('every demo role: start → answers → submit → 202 while processing → 200 with ranked credentials citing verbatim evidence, degraded', async () => {
    for (const role of demo.roles) {
      const id = await submitDemoAssessment(sys, token, role, { weak: role.skills.slice(0, 3) });
      const body = await completedResult(sys, token, id);
      expect(body).toMatchObject({ assessment_id: id, degraded: true });
      expect(body.recommendation_items).toHaveLength(5);
      expect(body.traces.length).toBeGreaterThan(0);
      expect(typeof body.summary).toBe('string');
      expect(body.summary.length).toBeGreaterThan(0);
      // Composed rationales (no LLM), each citing at least one trace of the result.
      for (const item of body.recommendation_items) {
        expect(item.rationale.length).toBeGreaterThan(20);
        expect(item.source_trace_ids.length).toBeGreaterThan(0);
        expect(item.confidence).toBeGreaterThanOrEqual(0);
        expect(item.confidence).toBeLessThanOrEqual(1);
      }
      const positions = body.recommendation_items.map((i: any) => i.position);
      expect(positions).toEqual([1, 2, 3, 4, 5]);
      const confidences = body.recommendation_items.map((i: any) => i.confidence);
      expect(new Set(body.recommendation_items.map((i: any) => i.credential_id)).size).toBe(5);
      expect(Math.max(...confidences)).toBeGreaterThan(0);
      expectCitationsExist(body);
      await expectVerbatim(sys, token, body.traces);
      expect(body.metrics.total_latency_ms).toBeGreaterThan(0);
      expect(body.metrics.rag_latency_ms).toBeGreaterThanOrEqual(0);
      expect(body.metrics.token_cost_cents).toBe(0);
    }
  });

  test('a retired credential is never recommended nor cited', async () => {
    const role = demo.roles.find((r) => r.name === 'Data Analyst')!;
    const first = await completedResult(sys, token, await submitDemoAssessment(sys, token, role));
    const top = first.recommendation_items[0].credential_id as string;
    const admin = await sys.adminToken();
    expect((await sys.request('DELETE', `/api/v1/catalog/credentials/${top}`, { token: admin })).status).toBe(204);
    // The search index hides it once the projection applied the retirement.
    await eventually(async () => {
      const res = await sys.running.platform.elasticsearch.search({
        index: `${sys.config.KAFKA_TOPIC_PREFIX.toLowerCase()}-evidence`,
        query: { bool: { filter: [{ term: { source_id: top } }, { term: { active: true } }] } },
      });
      return res.hits.hits.length === 0 ? true : undefined;
    }, 60_000);
    // The same answers again: before, it came first.
    const again = await completedResult(sys, token, await submitDemoAssessment(sys, token, role));
    expect(again.recommendation_items.map((i: any) => i.credential_id)).not.toContain(top);
    expect(again.traces.map((t: any) => t.source_id)).not.toContain(top);
  });

  test('the result is for the owner, advisors and admins (another student: 403); not submitted → 409; unknown → 404', async () => {
    const role = demo.roles[0]!;
    const id = await submitDemoAssessment(sys, token, role);
    await completedResult(sys, token, id);
    const other = await sys.registerAndLogin('student');
    const advisor = await sys.registerAndLogin('advisor');
    expect((await sys.request('GET', `/api/v1/assessments/${id}/result`, { token: other.token })).status).toBe(403);
    expect((await sys.request('GET', `/api/v1/assessments/${id}/result`, { token: advisor.token })).status).toBe(200);
    const started = await sys.request('POST', '/api/v1/assessments/start', { token, body: { role_id: role.role_id } });
    const notSubmitted = await sys.request('GET', `/api/v1/assessments/${started.body.assessment_id}/result`, {
      token,
    });
    expectMatchesContract('GET', RESULT, notSubmitted);
    expect(notSubmitted.status).toBe(409);
    const unknown = await sys.request(
      'GET',
      `/api/v1/assessments/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/result`,
      {
        token,
      },
    );
    expect(unknown.status).toBe(404);
  });

  test('feedback changes rankings: accepted by similar students moves a credential up, rejected by them moves it down', async () => {
    const role = demo.roles.find((r) => r.name === 'Cloud / DevOps Engineer')!;
    const profile = { weak: role.skills.slice(0, 4) };
    const student = async () => (await sys.registerAndLogin('student')).token;
    const ranking = async (t: string) => {
      const id = await submitDemoAssessment(sys, t, role, profile);
      const body = await completedResult(sys, t, id);
      return { id, body, ids: body.recommendation_items.map((i: any) => i.credential_id as string) };
    };
    const before = await ranking(await student());
    // Room to move: x is not first, y is not last.
    const [, y, x] = before.ids as [string, string, string];
    const similar = 4;
    for (let i = 0; i < similar; i++) {
      const t = await student();
      const { body } = await ranking(t);
      for (const [credential, status] of [
        [x, 'accepted'],
        [y, 'rejected'],
      ] as const) {
        if (!body.recommendation_items.some((item: any) => item.credential_id === credential)) continue;
        const res = await sys.request('POST', `/api/v1/recommendations/${body.recommendation_id}/feedback`, {
          token: t,
          body: {
            credential_id: credential,
            relevance_score: status === 'accepted' ? 5 : 1,
            acceptance_status: status,
          },
        });
        expect(res.status).toBe(201);
      }
    }
    // The feedback is in the read model the ranking reads.
    await eventually(async () => {
      const { rows } = await sys.running.platform.pool.query(
        `SELECT count(*)::int AS n FROM recommendation_feedback f JOIN recommendations r ON r.id = f.recommendation_id
         WHERE r.role_id = $1`,
        [role.role_id],
      );
      return rows[0].n >= similar ? true : undefined;
    }, 30_000);

    const after = await ranking(await student());
    const itemOf = (r: { body: any }, c: string) => r.body.recommendation_items.find((i: any) => i.credential_id === c);
    const position = (r: { ids: string[] }, c: string) => (r.ids.includes(c) ? r.ids.indexOf(c) : r.ids.length);
    expect(itemOf(after, x).scores.collaborative).toBeGreaterThan(0.5);
    expect(itemOf(after, y)?.scores.collaborative ?? 0).toBeLessThan(0.5);
    expect(itemOf(after, x).confidence).toBeGreaterThan(itemOf(before, x).confidence);
    expect(position(after, x)).toBeLessThan(position(before, x));
    expect(position(after, y)).toBeGreaterThan(position(before, y));
  });
});

/** LLM settings for a system whose OpenAI is the fake. */
function llmEnv(fake: FakeOpenAI, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-test-not-a-real-key',
    OPENAI_BASE_URL: fake.url,
    LLM_MODEL: 'gpt-4o-mini',
    LLM_MAX_ATTEMPTS: '2',
    LLM_RETRY_BASE_MS: '20',
    LLM_TIMEOUT_MS: '2000',
    LLM_BREAKER_FAILURES: '50',
    PROCESSOR_POLL_MS: '100',
    ...overrides,
  };
}

const isRationaleCall = (body: ChatRequestBody) => body.response_format?.json_schema?.name === RATIONALE_SCHEMA_NAME;

describe('recommendations with an LLM (a local server speaking the OpenAI protocol)', () => {
  let fake: FakeOpenAI;
  let sys: TestSystem;
  let token: string;
  let role: DemoRole;
  let demo: Demo;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startTestSystem(llmEnv(fake));
    demo = await loadDemo(sys);
    await searchIndexed(sys, demo.credentials.length);
    token = (await sys.registerAndLogin('student')).token;
    role = demo.roles.find((r) => r.name === 'Backend Software Engineer')!;
  });
  afterAll(async () => {
    await sys?.stop();
    await fake?.close();
  });

  test('rationales and summary come from the LLM, each rationale citing traces of the result; not degraded; the cost counted', async () => {
    const before = fake.requests.filter((r) => isRationaleCall(r.body as ChatRequestBody)).length;
    const body = await completedResult(sys, token, await submitDemoAssessment(sys, token, role));
    const calls = fake.requests.filter((r) => isRationaleCall(r.body as ChatRequestBody));
    expect(calls.length - before).toBe(1);
    expect(body.degraded).toBe(false);
    expect(body.summary).toContain('fake summary');
    for (const item of body.recommendation_items) {
      expect(item.rationale).toContain('fake rationale');
      expect(item.source_trace_ids.length).toBeGreaterThan(0);
      // The inline citation names the trace it cites.
      expect(item.rationale).toContain(`[${item.source_trace_ids[0]}]`);
    }
    expectCitationsExist(body);
    expect(body.metrics.gpt_latency_ms).toBeGreaterThan(0);
    expect(body.metrics.token_cost_cents).toBeGreaterThan(0);
  });

  test('a reply citing a passage that was not given is refused and asked again', async () => {
    const before = fake.requests.filter((r) => isRationaleCall(r.body as ChatRequestBody)).length;
    fake.setDefaultChat({
      kind: 'custom',
      handle: (body) => {
        if (!isRationaleCall(body)) return { body: completion(body, scoringReply(body, {})) };
        const reply = rationaleReply(body) as { items: Record<string, { rationale: string }> };
        const first = Object.values(reply.items)[0]!;
        first.rationale = `${first.rationale} [T999]`;
        return { body: completion(body, reply) };
      },
    });
    try {
      const body = await completedResult(sys, token, await submitDemoAssessment(sys, token, role));
      // Both attempts refused (the invented citation), so composed: degraded.
      expect(fake.requests.filter((r) => isRationaleCall(r.body as ChatRequestBody)).length - before).toBe(2);
      expect(body.degraded).toBe(true);
      for (const item of body.recommendation_items) expect(item.rationale).not.toContain('T999');
      expectCitationsExist(body);
    } finally {
      fake.setDefaultChat({ kind: 'reply' });
    }
  });

  test('LLM down: the result still arrives, degraded, with composed rationales citing the evidence', async () => {
    fake.setDefaultChat({ kind: 'error', status: 503 });
    try {
      const body = await completedResult(sys, token, await submitDemoAssessment(sys, token, role));
      expect(body.degraded).toBe(true);
      for (const item of body.recommendation_items) {
        expect(item.rationale).not.toContain('fake');
        expect(item.source_trace_ids.length).toBeGreaterThan(0);
      }
      expectCitationsExist(body);
    } finally {
      fake.setDefaultChat({ kind: 'reply' });
    }
  });
});

describe('nothing stays awaiting_async', () => {
  test('a role no active credential teaches: the assessment fails with the reason, and the result says so', async () => {
    const sys = await startTestSystem({ PROCESSOR_POLL_MS: '100', PROCESSOR_RETRY_BASE_MS: '100' });
    try {
      const glassblower = await roleNobodyTeaches(sys);
      const { token } = await sys.registerAndLogin('student');
      const id = await startAssessment(sys, token, glassblower.roleId);
      const submitted = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
        token,
        body: { completed: true, responses: [{ question_id: glassblower.questionId, answer: 'kubernetes' }] },
      });
      expect(submitted.status).toBe(202);
      const res = await resultOf(sys, token, id);
      expect(res.status).toBe(409);
      expect(res.body.error_code).toBe('ASSESSMENT_FAILED');
      expect(res.body.message).toContain('no active credential of the catalog teaches a skill of the Glassblower');
    } finally {
      await sys.stop();
    }
  });

  test('work that can never finish: the async deadline fails the assessment with a reason', async () => {
    const fake = await startFakeOpenAI();
    // Every essay-scoring call hangs past the attempt timeout, and retries are far apart.
    fake.setDefaultChat({ kind: 'delay', ms: 60_000 });
    const sys = await startTestSystem(
      llmEnv(fake, {
        PROCESSOR_ATTEMPT_TIMEOUT_MS: '500',
        PROCESSOR_MAX_ATTEMPTS: '50',
        PROCESSOR_RETRY_BASE_MS: '60000',
        ASYNC_DEADLINE_MS: '4000',
        ASYNC_DEADLINE_CHECK_MS: '500',
      }),
    );
    try {
      const role = await createRoleWithQuestions(sys);
      const { token } = await sys.registerAndLogin('student');
      const id = await submitWithEssay(sys, role, token, 'An answer that is long enough to be scored. '.repeat(20));
      const res = await resultOf(sys, token, id, 60_000);
      expect(res.status).toBe(409);
      expect(res.body.error_code).toBe('ASSESSMENT_FAILED');
      expect(res.body.message).toMatch(/did not finish within 4 s/);
    } finally {
      await sys.stop();
      await fake.close();
    }
  });
});

describe('a recommendation processor killed between the LLM answer and its report', () => {
  test('the re-run makes one result: one RecommendationsGenerated, no duplicate items or traces', async () => {
    const fake = await startFakeOpenAI();
    const env = llmEnv(fake, { PROCESSOR_LEASE_MS: '3000' });
    const sys = await startTestSystem({ ...env, ROLES: 'api,deciders,projections' });
    const children: ReturnType<typeof spawnMicrocred>[] = [];
    try {
      const demo = await loadDemo(sys);
      await searchIndexed(sys, demo.credentials.length);
      const { token } = await sys.registerAndLogin('student');
      const processorEnv = { ...sys.env, ...env, ROLES: 'processors', PORT: '0' };
      const first = spawnMicrocred({ ...processorEnv, INSTANCE_ID: `${sys.env.INSTANCE_ID}-p1` });
      children.push(first);
      await first.waitFor('processor started');
      let killed = false;
      fake.setDefaultChat({
        kind: 'custom',
        handle: (body) => {
          const reply = isRationaleCall(body) ? rationaleReply(body) : scoringReply(body, {});
          if (isRationaleCall(body) && !killed) {
            killed = true;
            setImmediate(() => first.child.kill('SIGKILL'));
          }
          return { body: completion(body, reply) };
        },
      });
      const id = await submitDemoAssessment(sys, token, demo.roles[0]!);
      await eventually(async () => (first.child.signalCode === 'SIGKILL' ? true : undefined), 120_000, 'the kill');
      const second = spawnMicrocred({ ...processorEnv, INSTANCE_ID: `${sys.env.INSTANCE_ID}-p2` });
      children.push(second);
      const body = await completedResult(sys, token, id);
      const audit = await eventCount(sys, id, 'AssessmentCompleted');
      expect(audit).toBe(1);
      expect(await eventCount(sys, id, 'RecommendationsGenerated')).toBe(1);
      expect(await eventCount(sys, id, 'EvidenceRetrieved')).toBe(1);
      expect(body.recommendation_items).toHaveLength(5);
      expect(new Set(body.traces.map((t: any) => t.trace_id)).size).toBe(body.traces.length);
      const { rows } = await sys.running.platform.pool.query(
        'SELECT count(*)::int AS n FROM recommendation_items WHERE recommendation_id = $1',
        [body.recommendation_id],
      );
      expect(rows[0].n).toBe(5);
    } finally {
      await Promise.all(children.map((c) => c.kill('SIGKILL')));
      await sys.stop();
      await fake.close();
    }
  });
});

/** A chat completion carrying `reply` as its content. */
function completion(body: ChatRequestBody, reply: unknown) {
  const content = JSON.stringify(reply);
  return {
    id: `chatcmpl-${Math.random().toString(16).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 800, completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 },
  };
}
