import { randomUUID } from 'node:crypto';
import {
  allRequiredAnswers,
  createRoleWithQuestions,
  startAssessment,
  type RoleFixture,
} from '../../../test/support/catalogFixture';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';

jest.setTimeout(180_000);

/**
 * Essay scoring through the API, on the real stack: with no OPENAI_API_KEY the processors score
 * offline (MiniLM in a worker thread, degraded). Progress in GET /assessments/{id}, the scores
 * with their evidence, an advisor's override; an admin's import of scored examples.
 */
let sys: TestSystem;
let role: RoleFixture;

beforeAll(async () => {
  sys = await startTestSystem();
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  await sys?.stop();
});

const ESSAY = [
  'I would roll out the change with a canary deployment to one small node pool first.',
  'Readiness probes keep broken pods out of the load balancer while the new version warms up.',
  'I would watch the error budget, latency and saturation dashboards during the rollout.',
  'The trade-off is speed against safety: a slower rollout costs time but limits the blast radius.',
  'If the alerts fire, I roll back at once with the previous manifest, then write a post-mortem.',
  'Finally I would expand to the rest of the cluster in stages, pausing between each stage.',
].join(' ');

const api = (path: string) => `/api/v1${path}`;

/** Starts, answers every required question and submits; returns the assessment id. */
async function submitted(token: string): Promise<string> {
  const id = await startAssessment(sys, token, role.roleId);
  const submit = await sys.request('POST', api(`/assessments/${id}/responses`), {
    token,
    body: {
      completed: true,
      responses: allRequiredAnswers(role, ESSAY),
    },
  });
  expect(submit.status).toBe(202);
  expect(submit.body.status).toBe('awaiting_async');
  return id;
}

/** Polls GET /assessments/{id} (bounded) until the essay is no longer pending. */
async function essayScored(token: string, id: string) {
  return eventually(
    async () => {
      const res = await sys.request('GET', api(`/assessments/${id}`), { token });
      if (res.status !== 200) throw new Error(`GET assessment: ${res.status}`);
      const essay = res.body.scoring.questions.find((q: { question_id: string }) => q.question_id === role.essay);
      return essay.status === 'pending' ? undefined : res;
    },
    120_000,
    'the essay to be scored',
  );
}

describe('an essay scored offline', () => {
  let student: { token: string; userId: string };
  let advisor: { token: string };
  let id: string;

  beforeAll(async () => {
    [student, advisor] = await Promise.all([sys.registerAndLogin('student'), sys.registerAndLogin('advisor')]);
    id = await submitted(student.token);
  });

  test('GET /assessments/{id} shows per-question progress: pending, then scored (offline, degraded)', async () => {
    const right = await sys.request('GET', api(`/assessments/${id}`), { token: student.token });
    expect(right.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}', right);
    const byQuestion = (body: { scoring: { questions: { question_id: string; status: string }[] } }) =>
      Object.fromEntries(body.scoring.questions.map((q) => [q.question_id, q]));
    const early = byQuestion(right.body);
    expect(early[role.mcSingle]).toMatchObject({
      type: 'multiple_choice',
      status: 'rule_scored',
      score: 2,
      max_score: 2,
    });
    expect(early[role.optional]).toMatchObject({ status: 'unanswered', score: null });
    expect(['pending', 'scored']).toContain(early[role.essay]!.status);

    const done = await essayScored(student.token, id);
    expectMatchesContract('GET', '/assessments/{assessment_id}', done);
    expect(byQuestion(done.body)[role.essay]).toMatchObject({
      type: 'essay',
      status: 'scored',
      provider: 'offline',
      degraded: true,
      max_score: 5,
      score: expect.any(Number),
    });
    expect(done.body.scoring.essays_pending).toBe(0);
  });

  test('GET essays: evidence per criterion, verbatim from the essay, for the owner and staff only', async () => {
    await essayScored(student.token, id);
    const res = await sys.request('GET', api(`/assessments/${id}/essays`), { token: student.token });
    expect(res.status).toBe(200);
    expectMatchesContract('GET', '/assessments/{assessment_id}/essays', res);
    expect(res.body.essays).toHaveLength(1);
    const essay = res.body.essays[0];
    expect(essay).toMatchObject({
      question_id: role.essay,
      status: 'scored',
      provider: 'offline',
      degraded: true,
      max_score: 5,
      override: null,
    });
    expect(typeof essay.model).toBe('string');
    expect(typeof essay.prompt_version).toBe('string');
    expect(typeof essay.rationale).toBe('string');
    expect(essay.criteria.map((c: { criterion_id: string }) => c.criterion_id).sort()).toEqual([
      'clarity',
      'reasoning',
    ]);
    for (const c of essay.criteria as { evidence: string }[]) expect(ESSAY).toContain(c.evidence);
    expect(essay.criteria.some((c: { evidence: string }) => c.evidence.length > 0)).toBe(true);

    const staff = await sys.request('GET', api(`/assessments/${id}/essays`), { token: advisor.token });
    expect(staff.status).toBe(200);
    const other = await sys.registerAndLogin('student');
    const forbidden = await sys.request('GET', api(`/assessments/${id}/essays`), { token: other.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error_code).toBe('NOT_ASSESSMENT_OWNER');
    expectMatchesContract('GET', '/assessments/{assessment_id}/essays', forbidden);
    const progress = await sys.request('GET', api(`/assessments/${id}`), { token: other.token });
    expect(progress.status).toBe(403);
    const unknown = await sys.request('GET', api(`/assessments/${randomUUID()}/essays`), { token: advisor.token });
    expect(unknown.status).toBe(404);
    expectMatchesContract('GET', '/assessments/{assessment_id}/essays', unknown);
  });

  test('an advisor overrides with a reason; a student may not; a reason is required', async () => {
    const before = (await essayScored(student.token, id)).body.scoring.questions.find(
      (q: { question_id: string }) => q.question_id === role.essay,
    );
    const path = `/assessments/${id}/essays/${role.essay}/override`;
    const byStudent = await sys.request('POST', api(path), {
      token: student.token,
      body: { score: 5, reason: 'I deserve it' },
    });
    expect(byStudent.status).toBe(403);
    expectMatchesContract('POST', '/assessments/{assessment_id}/essays/{question_id}/override', byStudent);

    for (const body of [{ score: 4 }, { score: 4, reason: '' }, { score: -1, reason: 'r' }, { reason: 'r' }]) {
      const bad = await sys.request('POST', api(path), { token: advisor.token, body });
      expect({ body, status: bad.status }).toEqual({ body, status: 400 });
      expectMatchesContract('POST', '/assessments/{assessment_id}/essays/{question_id}/override', bad);
    }
    const tooHigh = await sys.request('POST', api(path), { token: advisor.token, body: { score: 6, reason: 'r' } });
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.body.error_code).toBe('INVALID_ESSAY_SCORE');

    const reason = 'Weighs canary against speed explicitly; the offline scorer under-rated it.';
    const res = await sys.request('POST', api(path), {
      token: advisor.token,
      body: { score: 4.5, reason },
      headers: { 'Idempotency-Key': `override-${randomUUID()}` },
    });
    expect(res.status).toBe(200);
    expectMatchesContract('POST', '/assessments/{assessment_id}/essays/{question_id}/override', res);
    expect(res.body).toMatchObject({
      question_id: role.essay,
      status: 'overridden',
      score: 4.5,
      override: { previous_score: before.score, reason, by: { role: 'advisor' } },
    });
    // The scorer's evidence stays with the overridden score.
    expect(res.body.criteria.length).toBe(2);

    const essays = await sys.request('GET', api(`/assessments/${id}/essays`), { token: student.token });
    expect(essays.body.essays[0]).toMatchObject({ status: 'overridden', score: 4.5, override: { reason } });
    const progress = await sys.request('GET', api(`/assessments/${id}`), { token: student.token });
    expect(
      progress.body.scoring.questions.find((q: { question_id: string }) => q.question_id === role.essay),
    ).toMatchObject({ status: 'overridden', score: 4.5 });
  });

  test('an override before submission is refused with 409; an unknown question with 404', async () => {
    const fresh = await startAssessment(sys, student.token, role.roleId);
    const early = await sys.request('POST', api(`/assessments/${fresh}/essays/${role.essay}/override`), {
      token: advisor.token,
      body: { score: 1, reason: 'too early' },
    });
    expect(early.status).toBe(409);
    expectMatchesContract('POST', '/assessments/{assessment_id}/essays/{question_id}/override', early);
    const unknown = await sys.request('POST', api(`/assessments/${id}/essays/${randomUUID()}/override`), {
      token: advisor.token,
      body: { score: 1, reason: 'r' },
    });
    expect(unknown.status).toBe(404);
  });
});

describe('scored examples (admin)', () => {
  const tsv = (...rows: string[]) => ['text\tscore', ...rows].join('\n') + '\n';
  const summary = async (token: string) => {
    const res = await sys.request('GET', api(`/catalog/questions/${role.essay}/scored-examples`), { token });
    expect(res.status).toBe(200);
    expectMatchesContract('GET', '/catalog/questions/{question_id}/scored-examples', res);
    return res.body;
  };
  const upload = (token: string, body: string, headers: Record<string, string> = {}) =>
    sys.request('POST', api(`/catalog/questions/${role.essay}/scored-examples`), {
      token,
      body,
      headers: { 'content-type': 'text/tab-separated-values', ...headers },
    });

  test('a TSV file is imported whole; a file with a bad row on line 3 imports nothing and names the line', async () => {
    const admin = await sys.adminToken();
    const before = await summary(admin);

    const good = await upload(
      admin,
      tsv('A canary rollout with probes and a rollback plan.\t4', 'I would just deploy it.\t0.5', 'Stages, alerts.\t2'),
    );
    expect(good.status).toBe(201);
    expectMatchesContract('POST', '/catalog/questions/{question_id}/scored-examples', good);
    expect(good.body).toMatchObject({ question_id: role.essay, imported: 3, import_id: expect.any(String) });
    const after = await summary(admin);
    expect(after.total).toBe(before.total + 3);
    expect(after.by_source.import).toBe(before.by_source.import + 3);
    expect(after.max_score).toBe(5);
    expect(after.score_distribution).toEqual(expect.arrayContaining([{ score: 4, count: expect.any(Number) }]));

    for (const [row, problem] of [
      ['Second row is bad\tlots', /not a number/],
      ['Score above the weight\t7', /outside 0–5/],
      ['Too\tmany\tcolumns', /column/],
    ] as const) {
      const bad = await upload(admin, tsv('A fine first example.\t3', row, 'A fine third one.\t1'));
      expect(bad.status).toBe(422);
      expectMatchesContract('POST', '/catalog/questions/{question_id}/scored-examples', bad);
      expect(bad.body.message).toMatch(/line 3/);
      expect(bad.body.message).toMatch(problem);
      expect(bad.body.details).toMatchObject({ line: 3 });
    }
    expect((await summary(admin)).total).toBe(after.total);
  });

  test('JSON works too; a retry with the same Idempotency-Key imports once; students, wrong types and sizes are refused', async () => {
    const admin = await sys.adminToken();
    const before = await summary(admin);
    const key = `examples-${randomUUID()}`;
    const send = () =>
      sys.request('POST', api(`/catalog/questions/${role.essay}/scored-examples`), {
        token: admin,
        body: { examples: [{ text: 'Rolling update, watch dashboards.', score: 2.5 }] },
        headers: { 'Idempotency-Key': key },
      });
    const first = await send();
    const retry = await send();
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect((await summary(admin)).total).toBe(before.total + 1);

    const student = await sys.registerAndLogin('student');
    expect((await upload(student.token, tsv('x\t1'))).status).toBe(403);
    const notEssay = await sys.request('POST', api(`/catalog/questions/${role.mcSingle}/scored-examples`), {
      token: admin,
      body: { examples: [{ text: 'x', score: 1 }] },
    });
    expect(notEssay.status).toBe(422);
    const unknown = await sys.request('POST', api(`/catalog/questions/${randomUUID()}/scored-examples`), {
      token: admin,
      body: { examples: [{ text: 'x', score: 1 }] },
    });
    expect(unknown.status).toBe(404);
    const csv = await upload(admin, 'text,score\nx,1\n', { 'content-type': 'text/csv' });
    expect(csv.status).toBe(415);
    expectMatchesContract('POST', '/catalog/questions/{question_id}/scored-examples', csv);
    const huge = await upload(admin, tsv(`${'word '.repeat(500_000)}\t1`));
    expect(huge.status).toBe(413);
    expectMatchesContract('POST', '/catalog/questions/{question_id}/scored-examples', huge);
  });
});
