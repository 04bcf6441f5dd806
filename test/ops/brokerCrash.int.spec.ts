import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { MessageCodec } from '../../services/messaging/messageCodec';
import { createRoleWithQuestions, essayAnswer, startAssessment, type RoleFixture } from '../support/catalogFixture';
import { readTopic } from '../support/kafka';
import { eventually } from '../support/platform';
import { runStack, stackServerPid } from '../support/stack';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../support/system';

jest.setTimeout(300_000);

/**
 * The Kafka broker crashes (SIGKILL) under write traffic and comes back. While it is down, writes
 * answer within the reply timeout with 503 (or 202 pending), never a 500 or a hang; clients that
 * retry with their Idempotency-Key get every answer recorded exactly once.
 */
const REPLY_TIMEOUT_MS = 3000;
let sys: TestSystem;
let role: RoleFixture;

beforeAll(async () => {
  sys = await startTestSystem({
    COMMAND_REPLY_TIMEOUT_MS: String(REPLY_TIMEOUT_MS),
    // Every Kafka client logs each refused connection while the broker is down: expected here.
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
  });
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  // Whatever happened, leave the stack up for the specs that follow.
  await runStack(['up']);
  await sys?.stop();
});

/** One answer a student means to give exactly once: its Idempotency-Key is fixed. */
interface Intent {
  token: string;
  assessmentId: string;
  questionId: string;
  answer: unknown;
  key: string;
  statuses: number[];
}

async function send(intent: Intent): Promise<HttpResult> {
  const started = Date.now();
  const res = await sys.request('POST', `/api/v1/assessments/${intent.assessmentId}/responses`, {
    token: intent.token,
    body: { responses: [{ question_id: intent.questionId, answer: intent.answer }] },
    headers: { 'Idempotency-Key': intent.key },
  });
  intent.statuses.push(res.status);
  expectMatchesContract('POST', '/assessments/{assessment_id}/responses', res);
  if (res.status === 503) {
    expect(res.headers.get('retry-after')).toBe('5');
    expect(['DEPENDENCY_UNAVAILABLE', 'COMMAND_NOT_CONFIRMED']).toContain(res.body.error_code);
  }
  // Bounded: the reply timeout, plus the time to refuse or answer.
  expect(Date.now() - started).toBeLessThan(REPLY_TIMEOUT_MS + 5000);
  return res;
}

/** Decided and recorded; a pending 202 or a 503 needs another try. */
const accepted = (res: HttpResult) => res.status === 202 && res.body.status !== 'pending';

test('a broker crash loses no answer and records none twice; meanwhile writes get 503, never 500', async () => {
  const answers: [string, unknown][] = [
    [role.mcSingle, 'kubernetes'],
    [role.mcMultiple, { selected: ['kubernetes', 'docker'] }],
    [role.profile, { skills: ['K8s', 'AWS'], years_experience: 3, summary: 'SRE' }],
    [role.essay, essayAnswer],
    [role.optional, 'helm'],
  ];
  const intents: Intent[] = [];
  for (let s = 0; s < 4; s++) {
    const student = await sys.registerAndLogin();
    const assessmentId = await startAssessment(sys, student.token, role.roleId);
    for (const [questionId, answer] of answers) {
      intents.push({ token: student.token, assessmentId, questionId, answer, key: randomUUID(), statuses: [] });
    }
  }
  const [before, during, after] = [intents.slice(0, 6), intents.slice(6, 14), intents.slice(14)];

  for (const intent of before) expect(accepted(await send(intent))).toBe(true);

  const pid = stackServerPid('kafka');
  process.kill(pid, 'SIGKILL');
  await Promise.all(during.map((intent) => send(intent)));

  const restarted = await runStack(['up']);
  expect(restarted.code).toBe(0);

  // Clients retry what was not accepted, with the same key, until it is.
  for (const intent of [...during, ...after]) {
    await eventually(
      async () => (accepted(await send(intent)) ? true : undefined),
      120_000,
      'the answer to be accepted',
    );
  }

  const all = intents.flatMap((i) => i.statuses);
  expect(all).not.toContain(500);
  expect(all.every((status) => status === 202 || status === 503)).toBe(true);
  expect(during.some((i) => i.statuses[0] !== 202 || i.statuses.length > 1)).toBe(true); // the crash was felt

  // The log: every intended answer recorded exactly once.
  const platform = sys.running.platform;
  const codec = new MessageCodec(platform.codec, platform.topics);
  const records = await readTopic(platform, platform.topics.assessment.events);
  const recorded = new Map<string, number>();
  for (const r of records) {
    const event = (await codec.decode<EventEnvelope>(r.value)).value;
    if (event.type !== 'ResponseRecorded') continue;
    const key = `${event.aggregate_id}/${(event.data as { question_id: string }).question_id}`;
    recorded.set(key, (recorded.get(key) ?? 0) + 1);
  }
  for (const intent of intents) expect(recorded.get(`${intent.assessmentId}/${intent.questionId}`)).toBe(1);
});
