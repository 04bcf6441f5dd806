import { randomUUID } from 'node:crypto';
import {
  allRequiredAnswers,
  createRoleWithQuestions,
  startAssessment,
  type RoleFixture,
} from '../../../test/support/catalogFixture';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';

jest.setTimeout(120_000);

let sys: TestSystem;
let role: RoleFixture;

beforeAll(async () => {
  sys = await startTestSystem();
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  await sys?.stop();
});

const started = (token: string) => startAssessment(sys, token, role.roleId);

const answer = (token: string, id: string, body: unknown, headers: Record<string, string> = {}) =>
  sys.request('POST', `/api/v1/assessments/${id}/responses`, { token, body, headers });

describe('Idempotency-Key', () => {
  test('a retried start returns the first assessment and creates no second one', async () => {
    const student = await sys.registerAndLogin();
    const key = `start-${randomUUID()}`;
    const first = await sys.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: role.roleId },
      headers: { 'Idempotency-Key': key },
    });
    const retry = await sys.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: role.roleId },
      headers: { 'Idempotency-Key': key },
    });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expectMatchesContract('POST', '/assessments/start', retry);
    expect(retry.body.assessment_id).toBe(first.body.assessment_id);
    expect(retry.body.expires_at).toBe(first.body.expires_at);
    expect(retry.body.questions.map((q: { question_id: string }) => q.question_id).sort()).toEqual(
      first.body.questions.map((q: { question_id: string }) => q.question_id).sort(),
    );
    const { rows } = await sys.running.platform.pool.query(
      'SELECT count(*)::int AS n FROM assessments WHERE user_id = $1',
      [student.userId],
    );
    expect(rows[0].n).toBe(1);
  });

  test('a retried response batch returns the first acknowledgement and writes nothing', async () => {
    const student = await sys.registerAndLogin();
    const id = await started(student.token);
    const key = `answer-${randomUUID()}`;
    const body = { responses: [{ question_id: role.mcSingle, answer: 'docker' }] };
    const first = await answer(student.token, id, body, { 'Idempotency-Key': key });
    const retry = await answer(student.token, id, body, { 'Idempotency-Key': key });
    expect(retry.status).toBe(first.status);
    expect(retry.body).toEqual(first.body);
    const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token: student.token });
    expect(history.body.events.filter((e: { type: string }) => e.type === 'ResponseRecorded')).toHaveLength(1);
  });

  test('a retried submission returns the first answer (submitted, awaiting_async) and writes nothing', async () => {
    const student = await sys.registerAndLogin();
    const id = await started(student.token);
    const key = `submit-${randomUUID()}`;
    const body = {
      completed: true,
      responses: allRequiredAnswers(role),
    };
    const first = await answer(student.token, id, body, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'awaiting_async', async_job_enqueued: true });
    const retry = await answer(student.token, id, body, { 'Idempotency-Key': key });
    expect(retry.status).toBe(202);
    expectMatchesContract('POST', '/assessments/{assessment_id}/responses', retry);
    expect(retry.body).toEqual(first.body);
    const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token: student.token });
    expect(history.body.events.filter((e: { type: string }) => e.type === 'AssessmentSubmitted')).toHaveLength(1);
  });

  test('a malformed key is refused with 400', async () => {
    const student = await sys.registerAndLogin();
    const res = await sys.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: role.roleId },
      headers: { 'Idempotency-Key': 'has spaces' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_IDEMPOTENCY_KEY');
  });
});

describe('every rejection is a clear error in the contract shape', () => {
  let token: string;
  let id: string;
  beforeAll(async () => {
    token = (await sys.registerAndLogin()).token;
    id = await started(token);
  });

  const cases: [string, () => Promise<{ status: number; body: { error_code: string } }>, number, string][] = [
    [
      'unknown role',
      () => sys.request('POST', '/api/v1/assessments/start', { token, body: { role_id: randomUUID() } }),
      404,
      'ROLE_NOT_FOUND',
    ],
    [
      'start body with an unknown field',
      () => sys.request('POST', '/api/v1/assessments/start', { token, body: { role_id: role.roleId, hack: 1 } }),
      400,
      'INVALID_REQUEST',
    ],
    [
      'start body missing role_id',
      () => sys.request('POST', '/api/v1/assessments/start', { token, body: {} }),
      400,
      'INVALID_REQUEST',
    ],
    [
      'malformed JSON',
      () => sys.request('POST', '/api/v1/assessments/start', { token, body: '{"role_id":' }),
      400,
      'BAD_REQUEST',
    ],
    ['empty response batch', () => answer(token, id, { responses: [] }), 400, 'INVALID_REQUEST'],
    [
      'unknown question',
      () => answer(token, id, { responses: [{ question_id: randomUUID(), answer: 'x' }] }),
      422,
      'UNKNOWN_QUESTION',
    ],
    [
      'choice not offered',
      () => answer(token, id, { responses: [{ question_id: role.mcSingle, answer: 'cobol' }] }),
      422,
      'INVALID_ANSWER',
    ],
    [
      'profile missing a required field',
      () => answer(token, id, { responses: [{ question_id: role.profile, answer: { skills: ['aws'] } }] }),
      422,
      'INVALID_ANSWER',
    ],
    [
      'essay too short',
      () => answer(token, id, { responses: [{ question_id: role.essay, answer: 'too short' }] }),
      422,
      'INVALID_ANSWER',
    ],
    [
      'the same question twice in one batch',
      () =>
        answer(token, id, {
          responses: [
            { question_id: role.mcSingle, answer: 'helm' },
            { question_id: role.mcSingle, answer: 'docker' },
          ],
        }),
      422,
      'DUPLICATE_RESPONSE',
    ],
    [
      'submitting with required questions unanswered',
      () => answer(token, id, { completed: true, responses: [{ question_id: role.mcSingle, answer: 'helm' }] }),
      422,
      'REQUIRED_QUESTIONS_UNANSWERED',
    ],
    [
      'an assessment that does not exist',
      () => answer(token, randomUUID(), { responses: [{ question_id: role.mcSingle, answer: 'helm' }] }),
      404,
      'ASSESSMENT_NOT_FOUND',
    ],
    [
      'a non-UUID assessment id',
      () => sys.request('GET', '/api/v1/assessments/not-a-uuid', { token }),
      404,
      'NOT_FOUND',
    ],
  ];

  test.each(cases)('%s', async (_name, call, status, code) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.body).toEqual(expect.objectContaining({ error_code: code, message: expect.any(String) }));
  });

  test('a rejected submission records nothing of its batch', async () => {
    const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token });
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['AssessmentStarted']);
  });
});

describe('expiry', () => {
  let shortLived: TestSystem;
  beforeAll(async () => {
    shortLived = await startTestSystem({ ASSESSMENT_DURATION_SECONDS: '5' });
  });
  afterAll(async () => {
    await shortLived?.stop();
  });

  test('answers are accepted until expires_at and refused after it with ASSESSMENT_EXPIRED', async () => {
    const fixture = await createRoleWithQuestions(shortLived);
    const student = await shortLived.registerAndLogin();
    const start = await shortLived.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: fixture.roleId },
    });
    expect(start.status).toBe(201);
    const id = start.body.assessment_id as string;
    const before = await shortLived.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      body: { responses: [{ question_id: fixture.mcSingle, answer: 'helm' }] },
    });
    expect(before.status).toBe(202);
    await new Promise((r) => setTimeout(r, Math.max(0, new Date(start.body.expires_at).getTime() - Date.now() + 200)));
    const after = await shortLived.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      body: { responses: [{ question_id: fixture.mcSingle, answer: 'kubernetes' }] },
    });
    expect(after.status).toBe(409);
    expect(after.body.error_code).toBe('ASSESSMENT_EXPIRED');
  });
});

describe('question versions', () => {
  test('a revision is a new version; an assessment keeps the version it started with', async () => {
    const student = await sys.registerAndLogin();
    const before = await started(student.token);
    const revised = await sys.request('PUT', `/api/v1/catalog/questions/${role.optional}`, {
      token: await sys.adminToken(),
      body: {
        question_type: 'multiple_choice',
        prompt: 'Optional (revised): which tool packages Kubernetes applications?',
        choices: ['kubernetes', 'docker', 'helm', 'ftp'],
        rubric: { scoring: 'choice', select: 'single', correct: ['helm'] },
        weight: 2,
        required: false,
      },
    });
    expect(revised.status).toBe(200);
    expect(revised.body).toMatchObject({ question_id: role.optional, version: '2', weight: 2 });

    const later = await sys.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: role.roleId },
    });
    const laterQuestion = later.body.questions.find((q: { question_id: string }) => q.question_id === role.optional);
    expect(laterQuestion).toMatchObject({ version: '2', prompt: expect.stringContaining('revised') });

    const { rows } = await sys.running.platform.pool.query(
      'SELECT version, prompt FROM assessment_question_snapshots WHERE assessment_id = $1 AND question_id = $2',
      [before, role.optional],
    );
    expect(rows).toEqual([{ version: '1', prompt: expect.not.stringContaining('revised') }]);
    // Answers to the earlier assessment are scored by the version it snapshotted (weight 1).
    await answer(student.token, before, { responses: [{ question_id: role.optional, answer: 'helm' }] });
    const score = await eventually(async () => {
      const { rows: scored } = await sys.running.platform.pool.query(
        `SELECT r.max_score::float AS max FROM rule_scores r JOIN assessment_question_snapshots s ON s.id = r.question_snapshot_id
          WHERE r.assessment_id = $1 AND s.question_id = $2`,
        [before, role.optional],
      );
      return scored.length > 0 ? scored : undefined;
    });
    expect(score).toEqual([{ max: 1 }]);
  });
});
