import { randomUUID } from 'node:crypto';
import { assessmentContext } from '../../domain';
import type { AssessmentEvent } from '../../domain/assessment/assessment';
import type { AssessmentCommand, ResponseInput } from '../../domain/assessment/decide';
import {
  background,
  design,
  essayScoredDefaults,
  orchestrator,
  questions,
  toolbox,
} from '../../domain/assessment/testing/fixtures';
import type { Actor } from '../../domain/shared/decider';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import { snapshotIdOf, assessmentsProjection } from './projection';
import { findAssessment, questionSnapshots, responsesOf } from './queries';

jest.setTimeout(120_000);

let bed: Testbed;
const streams = new Streams(assessmentContext);
const system: Actor = { id: 'system:essay-scorer', role: 'system' };
const student: Actor = { id: randomUUID(), role: 'student' };
const roleId = randomUUID();
const [done, ongoing, broken] = [randomUUID(), randomUUID(), randomUUID()];
const essay = 'I would run several replicas behind a load balancer across zones.';

function start(assessmentId: string, seconds: number): EventEnvelope[] {
  return streams.decide(
    commandOf<AssessmentCommand>(
      'StartAssessment',
      {
        assessment_id: assessmentId,
        user_id: student.id,
        role_id: roleId,
        role_name: 'Cloud engineer',
        questions,
        expires_at: at(7200),
        metadata: { source: 'spec' },
      },
      student,
      at(seconds),
    ),
  );
}

function respond(assessmentId: string, responses: ResponseInput[], seconds: number, complete = false) {
  return streams.decide(
    commandOf<AssessmentCommand>(
      'RecordResponses',
      { assessment_id: assessmentId, responses, complete },
      student,
      at(seconds),
    ),
  );
}

function later(assessmentId: string, event: AssessmentEvent, seconds: number): EventEnvelope[] {
  return streams.append(assessmentId, [event], { command_id: randomUUID(), now: at(seconds), actor: system });
}

const first: EventEnvelope[] = [];

beforeAll(async () => {
  bed = await createTestbed();
  first.push(
    ...start(done, 0),
    ...start(broken, 5),
    ...start(ongoing, 10),
    ...respond(done, [{ question_id: orchestrator.question_id, answer: 'docker' }], 60),
    ...respond(
      ongoing,
      [{ question_id: background.question_id, answer: { skills: ['k8s', 'terraform'], years_experience: 3 } }],
      70,
    ),
    ...respond(
      done,
      [
        { question_id: orchestrator.question_id, answer: 'kubernetes' },
        { question_id: toolbox.question_id, answer: { selected: ['kubernetes', 'docker'] } },
      ],
      120,
    ),
    ...respond(done, [{ question_id: design.question_id, answer: essay, submitted_at: at(170) }], 180, true),
    ...later(
      done,
      {
        type: 'EssayScored',
        data: {
          assessment_id: done,
          question_id: design.question_id,
          question_version: design.version,
          revision: 1,
          score: 3,
          max_score: 4,
          criteria: [{ criterion_id: 'reasoning', score: 3, rationale: 'Names trade-offs' }],
          explanation: 'Scored offline',
          model: 'offline-rubric',
          prompt_version: 'v1',
          degraded: true,
          latency_ms: 12,
          cost_cents: null,
          ...essayScoredDefaults,
        },
      },
      240,
    ),
    ...later(
      done,
      { type: 'AssessmentCompleted', data: { assessment_id: done, completed_at: at(300), degraded: false } },
      300,
    ),
    ...later(
      broken,
      { type: 'AssessmentFailed', data: { assessment_id: broken, failed_at: at(400), reason: 'Timed out' } },
      400,
    ),
  );
  await bed.publish('assessment', first);
  await bed.startRunner(assessmentsProjection);
  await bed.caughtUp(assessmentsProjection);
});

afterAll(async () => {
  await bed?.close();
});

const pool = () => bed.platform.pool;

async function snapshot() {
  const table = async (sql: string) => (await pool().query(sql)).rows;
  const queries = async (id: string) => ({
    status: await findAssessment(pool(), id),
    snapshots: await questionSnapshots(pool(), id),
    responses: await responsesOf(pool(), id),
  });
  return {
    assessments: await table('SELECT * FROM assessments ORDER BY id'),
    snapshots: await table('SELECT * FROM assessment_question_snapshots ORDER BY id'),
    responses: await table('SELECT * FROM assessment_responses ORDER BY id'),
    scores: await table('SELECT * FROM rule_scores ORDER BY id'),
    done: await queries(done),
    ongoing: await queries(ongoing),
    broken: await queries(broken),
  };
}

test('status and progress follow the assessment through to completion', async () => {
  expect(await findAssessment(pool(), done)).toEqual({
    assessment_id: done,
    user_id: student.id,
    role_id: roleId,
    status: 'completed',
    answered: 3,
    total: 4,
    degraded: true,
    started_at: at(0),
    expires_at: at(7200),
    submitted_at: at(180),
    completed_at: at(300),
    metadata: { source: 'spec' },
    version: 11,
    last_updated_at: at(300),
  });
  expect(await findAssessment(pool(), ongoing)).toMatchObject({
    status: 'in_progress',
    answered: 1,
    total: 4,
    degraded: false,
    submitted_at: null,
    completed_at: null,
    version: 3,
    last_updated_at: at(70),
  });
  expect(await findAssessment(pool(), broken)).toMatchObject({
    status: 'failed',
    version: 2,
    last_updated_at: at(400),
  });
  expect(await findAssessment(pool(), randomUUID())).toBeUndefined();
});

test('question snapshots: one row per question, with a deterministic id and its position', async () => {
  const snapshots = await questionSnapshots(pool(), done);
  expect(snapshots).toEqual(
    questions.map((q, position) => ({
      snapshot_id: snapshotIdOf(done, q.question_id),
      question_id: q.question_id,
      position,
      version: q.version,
      type: q.type,
      prompt: q.prompt,
      choices: q.choices,
      rubric: q.rubric,
      weight: q.weight,
      required: q.required,
    })),
  );
  expect(snapshotIdOf(done, orchestrator.question_id)).toBe(snapshotIdOf(done, orchestrator.question_id));
  expect(snapshotIdOf(done, orchestrator.question_id)).not.toBe(snapshotIdOf(ongoing, orchestrator.question_id));
});

test('responses: the latest answer to each question, with its latest rule score', async () => {
  const responses = await responsesOf(pool(), done);
  expect(responses.map((r) => [r.question_id, r.position, r.revision])).toEqual([
    [orchestrator.question_id, 0, 2],
    [toolbox.question_id, 1, 1],
    [design.question_id, 3, 1],
  ]);
  expect(responses[0]).toMatchObject({
    snapshot_id: snapshotIdOf(done, orchestrator.question_id),
    answer: 'kubernetes',
    submitted_at: at(120),
    rule_score: { score: 2, max_score: 2, scored_at: at(120) },
  });
  expect(responses[0]!.rule_score!.rules_applied.length).toBeGreaterThan(0);
  expect(responses[0]!.rule_score!.explanation).toEqual(expect.any(String));
  const toolboxScore = first.find(
    (e) => e.type === 'ResponseRuleScored' && e.data.question_id === toolbox.question_id,
  )!;
  expect(responses[1]).toMatchObject({
    answer: { selected: ['kubernetes', 'docker'] },
    rule_score: { score: toolboxScore.data.score, max_score: 3, rules_applied: toolboxScore.data.rules_applied },
  });
  expect(responses[2]).toMatchObject({ answer: essay, submitted_at: at(170), rule_score: null });
  expect(await responsesOf(pool(), ongoing)).toEqual([
    expect.objectContaining({ question_id: background.question_id, position: 2, rule_score: expect.any(Object) }),
  ]);
});

test('a new runner resumes where the last one stopped: nothing applied twice, nothing lost', async () => {
  await bed.stopRunners();
  const before = await snapshot();
  await bed.publish('assessment', [
    ...respond(ongoing, [{ question_id: orchestrator.question_id, answer: 1 }], 500),
    ...respond(
      ongoing,
      [{ question_id: background.question_id, answer: { skills: ['aws'], years_experience: 6 } }],
      510,
    ),
  ]);
  await bed.startRunner(assessmentsProjection);
  await bed.caughtUp(assessmentsProjection);

  const after = await snapshot();
  expect(after.done).toEqual(before.done);
  expect(after.snapshots).toEqual(before.snapshots);
  expect(after.responses).toHaveLength(before.responses.length + 1);
  expect(after.scores).toHaveLength(before.scores.length + 1);
  expect(after.ongoing.status).toMatchObject({ answered: 2, version: 7, last_updated_at: at(510) });
  expect(after.ongoing.responses.map((r) => [r.position, r.revision])).toEqual([
    [0, 1],
    [2, 2],
  ]);
  expect(after.ongoing.responses[1]!.answer).toEqual({ skills: ['aws'], years_experience: 6 });
});

test('re-applying older events changes nothing (no regressed answer, score or status)', async () => {
  const before = await snapshot();
  for (const event of first) await bed.applyDirectly(assessmentsProjection, event);
  expect(await snapshot()).toEqual(before);
});

test('events this build does not know are ignored', async () => {
  const before = await snapshot();
  await bed.applyDirectly(assessmentsProjection, {
    ...first[0]!,
    event_id: randomUUID(),
    type: 'FeedbackGiven',
    version: 99,
  });
  expect(await snapshot()).toEqual(before);
});

test('replaying from offset 0 over the rows, then into empty tables, gives the same read model', async () => {
  const before = await snapshot();
  await bed.stopRunners();
  await bed.reset(assessmentsProjection);
  await bed.startRunner(assessmentsProjection);
  await bed.caughtUp(assessmentsProjection);
  expect(await snapshot()).toEqual(before);

  await bed.stopRunners();
  await bed.reset(assessmentsProjection, [
    'rule_scores',
    'assessment_responses',
    'assessment_question_snapshots',
    'assessments',
  ]);
  expect((await snapshot()).assessments).toEqual([]);
  await bed.startRunner(assessmentsProjection);
  await bed.caughtUp(assessmentsProjection);
  expect(await snapshot()).toEqual(before);
});
