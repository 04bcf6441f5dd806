import { randomUUID } from 'node:crypto';
import { allRequiredAnswers, createRoleWithQuestions, startAssessment } from '../../test/support/catalogFixture';
import { startTestSystem, type TestSystem } from '../../test/support/system';

jest.setTimeout(180_000);

/**
 * A repeated command id gets the first outcome back, events included (the API reads "submitted"
 * from them), also from a decider that restarted and rebuilt its memory from the events log.
 */
let sys: TestSystem | undefined;
afterAll(async () => {
  await sys?.stop();
});

test('a submission retried after the decider restarted answers as the first one did', async () => {
  sys = await startTestSystem();
  const role = await createRoleWithQuestions(sys);
  const student = await sys.registerAndLogin();
  const id = await startAssessment(sys, student.token, role.roleId);
  const key = `submit-${randomUUID()}`;
  const submit = (s: TestSystem) =>
    s.request('POST', `/api/v1/assessments/${id}/responses`, {
      token: student.token,
      headers: { 'Idempotency-Key': key },
      body: {
        completed: true,
        responses: allRequiredAnswers(role),
      },
    });
  const first = await submit(sys);
  expect(first.status).toBe(202);
  expect(first.body.status).toBe('awaiting_async');

  // Same topics, groups, instance id and secrets: the new decider replays the log to remember.
  const env = sys.env;
  await sys.stop({ keepLog: true }); // restarted below on the same topics
  sys = await startTestSystem(env);
  const retry = await submit(sys);
  expect(retry.status).toBe(202);
  expect(retry.body).toEqual(first.body);
  const history = await sys.request('GET', `/api/v1/assessments/${id}/history`, { token: student.token });
  expect(history.body.events.filter((e: { type: string }) => e.type === 'AssessmentSubmitted')).toHaveLength(1);
});
