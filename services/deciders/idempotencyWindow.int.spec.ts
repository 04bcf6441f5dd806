import { randomUUID } from 'node:crypto';
import {
  allRequiredAnswers,
  createRoleWithQuestions,
  startAssessment,
  type RoleFixture,
} from '../../test/support/catalogFixture';
import { startTestSystem, type TestSystem } from '../../test/support/system';

jest.setTimeout(120_000);

/**
 * The deciders remember a decided command id for IDEMPOTENCY_WINDOW_SECONDS (so their memory
 * stays bounded): a retry within the window gets the first outcome, a later one is decided afresh.
 */
const WINDOW_SECONDS = 3;
let sys: TestSystem;
let role: RoleFixture;

beforeAll(async () => {
  sys = await startTestSystem({ IDEMPOTENCY_WINDOW_SECONDS: String(WINDOW_SECONDS) });
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  await sys?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recordedResponses(token: string, id: string): Promise<number> {
  const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token });
  expect(history.status).toBe(200);
  return history.body.events.filter((e: { type: string }) => e.type === 'ResponseRecorded').length;
}

test('a retried response batch is a duplicate within the window and decided afresh after it', async () => {
  const student = await sys.registerAndLogin();
  const id = await startAssessment(sys, student.token, role.roleId);
  const send = () =>
    sys.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      body: { responses: [{ question_id: role.mcSingle, answer: 'docker' }] },
      headers: { 'Idempotency-Key': key },
    });
  const key = `answer-${randomUUID()}`;

  const first = await send();
  expect(first.status).toBe(202);
  const retry = await send();
  expect(retry.body).toEqual(first.body);
  expect(await recordedResponses(student.token, id)).toBe(1);

  await sleep(WINDOW_SECONDS * 1000 + 500);
  const late = await send();
  expect(late.status).toBe(202);
  expect(await recordedResponses(student.token, id)).toBe(2);
});

test('a start retried after the window still creates no second assessment (its id comes from the key)', async () => {
  const student = await sys.registerAndLogin();
  const key = `start-${randomUUID()}`;
  const start = () =>
    sys.request('POST', '/api/v1/assessments/start', {
      token: student.token,
      body: { role_id: role.roleId },
      headers: { 'Idempotency-Key': key },
    });
  const first = await start();
  expect(first.status).toBe(201);

  await sleep(WINDOW_SECONDS * 1000 + 500);
  const late = await start();
  expect(late.status).toBe(409);
  expect(late.body.error_code).toBe('ASSESSMENT_ALREADY_STARTED');
  const { rows } = await sys.running.platform.pool.query(
    'SELECT count(*)::int AS n FROM assessments WHERE user_id = $1',
    [student.userId],
  );
  expect(rows[0].n).toBe(1);
});

test('a submission retried after the window is refused (409), never answered as if it were in progress', async () => {
  const student = await sys.registerAndLogin();
  const id = await startAssessment(sys, student.token, role.roleId);
  const key = `submit-${randomUUID()}`;
  const submit = () =>
    sys.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      headers: { 'Idempotency-Key': key },
      body: {
        completed: true,
        responses: allRequiredAnswers(role),
      },
    });
  const first = await submit();
  expect(first.body.status).toBe('awaiting_async');
  expect((await submit()).body).toEqual(first.body);

  await sleep(WINDOW_SECONDS * 1000 + 500);
  const late = await submit();
  expect(late.status).toBe(409);
  expect(late.body.error_code).toBe('ASSESSMENT_NOT_IN_PROGRESS');
  expect(await recordedResponses(student.token, id)).toBe(4);
});
