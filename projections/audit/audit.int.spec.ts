import { randomUUID } from 'node:crypto';
import { assessmentContext, catalogContext, identityContext } from '../../domain';
import type { AssessmentCommand, ResponseInput } from '../../domain/assessment/decide';
import { choiceQuestionChoices, singleChoice } from '../../domain/assessment/rubricExamples';
import {
  design,
  essayScoredDefaults,
  orchestrator,
  questions,
  toolbox,
} from '../../domain/assessment/testing/fixtures';
import type { CatalogCommand } from '../../domain/catalog/decide';
import type { UserCommand } from '../../domain/identity/decide';
import type { Actor } from '../../domain/shared/decider';
import { userIdForEmail } from '../../domain/shared/ids';
import type { ContextName, EventEnvelope } from '../../services/messaging/envelopes';
import { auditProjection } from './projection';
import { historyOf } from './queries';
import { at, commandOf, createTestbed, Streams, type Testbed } from './testing/testbed';

jest.setTimeout(120_000);

let bed: Testbed;
const identity = new Streams(identityContext);
const catalog = new Streams(catalogContext);
const assessments = new Streams(assessmentContext);

const system: Actor = { id: 'system:bootstrap', role: 'system' };
const adminId = userIdForEmail('root@example.com');
const admin: Actor = { id: adminId, role: 'admin' };
const email = 'ada.lovelace@example.com';
const studentId = userIdForEmail(email);
const student: Actor = { id: studentId, role: 'student' };
const roleId = randomUUID();
const questionId = randomUUID();
const credentialId = randomUUID();
const assessmentId = randomUUID();

// Personal data that must never reach an audit summary.
const essay = 'ZEBRA-ESSAY I would spread replicas across zones behind a load balancer.';
const personal = ['ZEBRA', 'lovelace', 'Personal reason', 'secret-profile', 'Rather not say'];

const user = (type: UserCommand['type'], data: Record<string, unknown>, actor: Actor, seconds: number) =>
  identity.decide(commandOf<UserCommand>(type, data as UserCommand['data'], actor, at(seconds)));
const change = (type: CatalogCommand['type'], data: Record<string, unknown>, seconds: number) =>
  catalog.decide(commandOf<CatalogCommand>(type, data as CatalogCommand['data'], admin, at(seconds)));
const respond = (responses: ResponseInput[], seconds: number, complete = false) =>
  assessments.decide(
    commandOf<AssessmentCommand>(
      'RecordResponses',
      { assessment_id: assessmentId, responses, complete },
      student,
      at(seconds),
    ),
  );

const published: EventEnvelope[] = [];
async function publish(context: ContextName, events: EventEnvelope[]): Promise<void> {
  published.push(...events);
  await bed.publish(context, events);
}

const short = (id: string) => `${id.slice(0, 8)}…`;

beforeAll(async () => {
  bed = await createTestbed();
  await publish('identity', [
    ...user('RegisterUser', { user_id: adminId, email: 'root@example.com', role: 'admin' }, system, 0),
    ...user(
      'RegisterUser',
      { user_id: studentId, email, role: 'student', profile: { headline: 'secret-profile text' } },
      student,
      1,
    ),
  ]);
  await publish('catalog', [
    ...change(
      'CreateRole',
      { role_id: roleId, name: 'Cloud engineer', skills_profile: [{ skill: 'kubernetes' }, { skill: 'terraform' }] },
      10,
    ),
    ...change(
      'CreateQuestion',
      {
        question_id: questionId,
        role_id: roleId,
        question_type: 'multiple_choice',
        prompt: 'Which tool orchestrates containers?',
        choices: choiceQuestionChoices,
        rubric: singleChoice,
        weight: 2,
        required: true,
      },
      11,
    ),
    ...change('ReviseQuestion', { question_id: questionId, weight: 3 }, 12),
    ...change('RetireQuestion', { question_id: questionId, reason: 'Rather not say why' }, 13),
    ...change('CreateCredential', { credential_id: credentialId, title: 'CKA', skills: ['kubernetes'] }, 14),
  ]);
  const started = assessments.decide(
    commandOf<AssessmentCommand>(
      'StartAssessment',
      {
        assessment_id: assessmentId,
        user_id: studentId,
        role_id: roleId,
        role_name: 'Cloud engineer',
        questions,
        expires_at: at(7200),
        metadata: null,
      },
      student,
      at(100),
    ),
  );
  await publish('assessment', [
    ...started,
    ...respond([{ question_id: orchestrator.question_id, answer: 'docker' }], 110),
    ...respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }], 120),
    ...respond(
      [
        { question_id: toolbox.question_id, answer: { selected: ['kubernetes', 'helm'] } },
        { question_id: design.question_id, answer: essay },
      ],
      130,
      true,
    ),
    ...assessments.append(
      assessmentId,
      [
        {
          type: 'EssayScored',
          data: {
            assessment_id: assessmentId,
            question_id: design.question_id,
            question_version: design.version,
            revision: 1,
            score: 3,
            max_score: 4,
            criteria: [{ criterion_id: 'reasoning', score: 3, rationale: 'ZEBRA-ESSAY quoted back' }],
            explanation: 'Quotes the essay: ZEBRA-ESSAY',
            model: 'offline-rubric',
            prompt_version: 'v1',
            degraded: true,
            latency_ms: 5,
            cost_cents: null,
            ...essayScoredDefaults,
          },
        },
        { type: 'AssessmentCompleted', data: { assessment_id: assessmentId, completed_at: at(200), degraded: true } },
      ],
      { command_id: randomUUID(), now: at(200), actor: { id: 'system:essay-scorer', role: 'system' } },
    ),
  ]);
  await bed.startRunner(auditProjection);
  await bed.caughtUp(auditProjection);
});

afterAll(async () => {
  await bed?.close();
});

const pool = () => bed.platform.pool;

async function snapshot() {
  return {
    rows: (await pool().query('SELECT * FROM audit_logs ORDER BY id')).rows,
    assessment: await historyOf(pool(), 'assessment', assessmentId),
    student: await historyOf(pool(), 'user', studentId),
    question: await historyOf(pool(), 'question', questionId),
  };
}

test('an assessment reads as a timeline of who did what, in stream order', async () => {
  const history = await historyOf(pool(), 'assessment', assessmentId);
  const events = published.filter((e) => e.aggregate_id === assessmentId);
  expect(history.map((h) => h.event_id)).toEqual(events.map((e) => e.event_id));
  expect(history.map((h) => [h.version, h.type, h.summary])).toEqual([
    [1, 'AssessmentStarted', 'Started assessment for role Cloud engineer with 4 questions'],
    [2, 'ResponseRecorded', `Answered question ${short(orchestrator.question_id)} (revision 1)`],
    [3, 'ResponseRuleScored', `Scored 0 / 2 on question ${short(orchestrator.question_id)} (revision 1)`],
    [4, 'ResponseRecorded', `Answered question ${short(orchestrator.question_id)} (revision 2)`],
    [5, 'ResponseRuleScored', `Scored 2 / 2 on question ${short(orchestrator.question_id)} (revision 2)`],
    [6, 'ResponseRecorded', `Answered question ${short(toolbox.question_id)} (revision 1)`],
    [
      7,
      'ResponseRuleScored',
      expect.stringMatching(new RegExp(`^Scored [\\d.]+ / 3 on question ${short(toolbox.question_id)}`)),
    ],
    [8, 'ResponseRecorded', `Answered question ${short(design.question_id)} (revision 1)`],
    [9, 'AssessmentSubmitted', 'Submitted with 3 of 4 answered; essay scoring and recommendations pending'],
    [10, 'EssayScored', `Scored 3 / 4 on essay question ${short(design.question_id)} by offline-rubric (degraded)`],
    [11, 'AssessmentCompleted', 'Completed (degraded)'],
  ]);
  expect(history[0]).toEqual({
    event_id: events[0]!.event_id,
    type: 'AssessmentStarted',
    version: 1,
    occurred_at: at(100),
    actor: { id: studentId, role: 'student' },
    summary: 'Started assessment for role Cloud engineer with 4 questions',
  });
  // A system process is not a user: no actor id, its role says who.
  expect(history[10]!.actor).toEqual({ id: null, role: 'system' });
});

test('every context is audited: users, roles, questions, credentials', async () => {
  expect((await historyOf(pool(), 'user', studentId)).map((h) => h.summary)).toEqual(['Registered a student account']);
  expect(await historyOf(pool(), 'user', adminId)).toEqual([
    expect.objectContaining({ summary: 'Registered an admin account', actor: { id: null, role: 'system' } }),
  ]);
  expect((await historyOf(pool(), 'role', roleId)).map((h) => h.summary)).toEqual([
    'Created role Cloud engineer with 2 skills',
  ]);
  expect((await historyOf(pool(), 'question', questionId)).map((h) => [h.version, h.summary])).toEqual([
    [1, `Created a multiple choice question (version 1) for role ${short(roleId)}`],
    [2, 'Revised the question to version 2'],
    [3, 'Retired the question at version 2'],
  ]);
  expect((await historyOf(pool(), 'credential', credentialId)).map((h) => h.summary)).toEqual([
    'Created credential CKA with 1 skill',
  ]);
  expect(await historyOf(pool(), 'assessment', randomUUID())).toEqual([]);
  expect(await historyOf(pool(), 'user', assessmentId)).toEqual([]);
});

test('one row per event, shaped as the seed audit_logs table, without personal data', async () => {
  const { rows } = await pool().query('SELECT * FROM audit_logs');
  expect(rows).toHaveLength(published.length);
  const started = published.find((e) => e.type === 'AssessmentStarted')!;
  expect(rows.find((r) => r.id === started.event_id)).toEqual({
    id: started.event_id,
    actor_id: studentId,
    actor_role: 'student',
    action: 'AssessmentStarted',
    resource_type: 'assessment',
    resource_id: assessmentId,
    version: '1',
    metadata: {
      version: 1,
      occurred_at: at(100),
      correlation_id: started.correlation_id,
      causation_id: started.causation_id,
      summary: 'Started assessment for role Cloud engineer with 4 questions',
    },
    created_at: new Date(at(100)),
  });
  const leaks = rows.filter((r) => personal.some((text) => JSON.stringify(r).includes(text)));
  expect(leaks).toEqual([]);
});

test('a new runner resumes where the last one stopped: nothing applied twice, nothing lost', async () => {
  await bed.stopRunners();
  const before = await snapshot();
  await publish('identity', user('DisableUser', { user_id: studentId, reason: 'Personal reason given' }, admin, 300));
  await publish('catalog', change('RetireRole', { role_id: roleId, reason: null }, 301));
  await bed.startRunner(auditProjection);
  await bed.caughtUp(auditProjection);

  const after = await snapshot();
  expect(after.rows).toHaveLength(before.rows.length + 2);
  expect(after.assessment).toEqual(before.assessment);
  expect(after.student.map((h) => h.summary)).toEqual(['Registered a student account', 'Disabled the account']);
  expect(after.student[1]!.actor).toEqual({ id: adminId, role: 'admin' });
  expect((await historyOf(pool(), 'role', roleId)).map((h) => h.summary)).toEqual([
    'Created role Cloud engineer with 2 skills',
    'Retired the role',
  ]);
});

test('re-applying events adds nothing', async () => {
  const before = await snapshot();
  for (const event of published) await bed.applyDirectly(auditProjection, event);
  expect(await snapshot()).toEqual(before);
});

test('an event type this build does not know is still audited, with a generic summary', async () => {
  const unknown: EventEnvelope = {
    ...published[0]!,
    event_id: randomUUID(),
    type: 'UserRenamed',
    version: 2,
    data: {},
  };
  await bed.applyDirectly(auditProjection, unknown);
  const history = await historyOf(pool(), 'user', adminId);
  expect(history.map((h) => h.summary)).toEqual(['Registered an admin account', 'Recorded UserRenamed']);
  await pool().query('DELETE FROM audit_logs WHERE id = $1', [unknown.event_id]);
});

test('replaying from offset 0 over the rows, then into an empty table, gives the same history', async () => {
  const before = await snapshot();
  await bed.stopRunners();
  await bed.reset(auditProjection);
  await bed.startRunner(auditProjection);
  await bed.caughtUp(auditProjection);
  expect(await snapshot()).toEqual(before);

  await bed.stopRunners();
  await bed.reset(auditProjection, ['audit_logs']);
  expect((await snapshot()).rows).toEqual([]);
  await bed.startRunner(auditProjection);
  await bed.caughtUp(auditProjection);
  expect(await snapshot()).toEqual(before);
});
