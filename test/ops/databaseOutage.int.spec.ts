import { createRoleWithQuestions, startAssessment, type RoleFixture } from '../support/catalogFixture';
import { eventually } from '../support/platform';
import { runStack, stackServerPid } from '../support/stack';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../support/system';

jest.setTimeout(300_000);

/**
 * PostgreSQL (the read models) goes down and comes back. Meanwhile queries answer 503 with
 * Retry-After, never a 500; writes still go through (they need only Kafka and the deciders);
 * the projections catch up once it is back, losing nothing and applying nothing twice.
 */
let sys: TestSystem;
let role: RoleFixture;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  sys = await startTestSystem({
    // Every pool and projection logs each refused connection while the database is down: expected here.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
  });
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  // Whatever happened, leave the stack up for the specs that follow.
  await runStack(['up']);
  await sys?.stop();
});

test('a database outage: queries get 503, writes still land, and the read models catch up exactly once', async () => {
  const student = await sys.registerAndLogin();
  const id = await startAssessment(sys, student.token, role.roleId);
  const status = () => sys.request('GET', `/api/v1/assessments/${id}`, { token: student.token });
  expect((await status()).status).toBe(200);

  // Fast shutdown (SIGINT): every connection is cut and new ones are refused.
  const pid = stackServerPid('postgres');
  process.kill(pid, 'SIGINT');
  await eventually(async () => (alive(pid) ? undefined : true), 30_000, 'postgres to stop');

  const during = await status();
  expect(during.status).toBe(503);
  expectMatchesContract('GET', '/assessments/{assessment_id}', during);
  expect(during.body.error_code).toBe('DEPENDENCY_UNAVAILABLE');
  expect(during.headers.get('retry-after')).toBe('5');

  // A write needs only Kafka and the deciders: it is decided while the read models are away.
  const answer = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token: student.token,
    body: { responses: [{ question_id: role.mcSingle, answer: 'kubernetes' }] },
  });
  expect(answer.status).toBe(202);
  expect(answer.body.status).toBe('in_progress');

  const restarted = await runStack(['up']);
  expect(restarted.code).toBe(0);

  const after = await eventually(
    async () => {
      const res = await status();
      return res.status === 200 && res.body.progress.answered === 1 ? res : undefined;
    },
    60_000,
    'the read model to reflect the answer',
  );
  expectMatchesContract('GET', '/assessments/{assessment_id}', after);
  const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token: student.token });
  expect(history.status).toBe(200);
  expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
    'AssessmentStarted',
    'ResponseRecorded',
    'ResponseRuleScored',
  ]);
});
