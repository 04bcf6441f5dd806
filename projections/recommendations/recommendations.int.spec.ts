import { randomUUID } from 'node:crypto';
import { assessmentContext } from '../../domain';
import type { EvidenceTrace, RecommendationItem, StudentSkillProfile } from '../../domain/assessment/assessment';
import type { AssessmentCommand } from '../../domain/assessment/decide';
import { evidenceTraceIdFor, recommendationIdFor } from '../../domain/assessment/recommendations';
import { design, orchestrator, questions, toolbox } from '../../domain/assessment/testing/fixtures';
import type { Actor } from '../../domain/shared/decider';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { assessmentsProjection } from '../assessments/projection';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import {
  metricSnapshotIdOf,
  recommendationFeedbackIdOf,
  recommendationItemIdOf,
  recommendationsProjection,
} from './projection';
import {
  feedbackOf,
  findRecommendation,
  findRecommendationItem,
  priorStudentsOf,
  recommendationOfAssessment,
  recommendationResultOf,
} from './queries';

jest.setTimeout(120_000);

/**
 * The recommendations projection on the real Kafka and PostgreSQL (a database of its own), fed
 * events the real decider decided: evidence → pending with its traces, recommendations → ready
 * with items and metric snapshots, feedback → each person's latest revision, failures with their
 * reason; the same rows after every event is applied again and after a rebuild from offset 0;
 * the collaborative signal's query.
 */
let bed: Testbed;
const streams = new Streams(assessmentContext);
const system: Actor = { id: 'system:recommendations', role: 'system' };
const advisor: Actor = { id: randomUUID(), role: 'advisor' };
const ada: Actor = { id: randomUUID(), role: 'student' };
const bob: Actor = { id: randomUUID(), role: 'student' };
const roleId = randomUUID();
const otherRoleId = randomUUID();
const cka = randomUUID();
const prometheus = randomUUID();

const [completed, failedAfterEvidence, failedInProgress, newer, withoutProfile] = [
  randomUUID(),
  randomUUID(),
  randomUUID(),
  randomUUID(),
  randomUUID(),
];

const decide = (type: AssessmentCommand['type'], data: Record<string, unknown>, actor: Actor, seconds: number) =>
  streams.decide(commandOf<AssessmentCommand>(type, data as never, actor, at(seconds)));

function submitted(assessmentId: string, student: Actor, seconds: number): EventEnvelope[] {
  return [
    ...decide(
      'StartAssessment',
      {
        assessment_id: assessmentId,
        user_id: student.id,
        role_id: roleId,
        role_name: 'Cloud engineer',
        questions,
        expires_at: at(seconds + 7200),
        metadata: null,
      },
      student,
      seconds,
    ),
    ...decide(
      'RecordResponses',
      {
        assessment_id: assessmentId,
        complete: true,
        responses: [
          { question_id: orchestrator.question_id, answer: 'kubernetes' },
          { question_id: toolbox.question_id, answer: { selected: ['kubernetes'] } },
          { question_id: design.question_id, answer: 'Replicas in two zones behind a load balancer, with failover.' },
        ],
      },
      student,
      seconds + 60,
    ),
    ...decide(
      'RecordEssayScore',
      {
        assessment_id: assessmentId,
        question_id: design.question_id,
        revision: 1,
        score: 3,
        criteria: [],
        explanation: 'Names redundancy and failover.',
        provider: 'offline',
        model: 'offline-rubric',
        prompt_version: 'essay-v1',
        degraded: true,
        flags: [],
        needs_review: false,
        tokens_in: null,
        tokens_out: null,
        cost_cents: null,
        latency_ms: 12,
        job_key: null,
        embedding: null,
      },
      system,
      seconds + 70,
    ),
  ];
}

function trace(assessmentId: string, credential: string, n: number, overrides: Partial<EvidenceTrace> = {}) {
  const snippet = n === 0 ? '  Hands-on cluster administration.' : 'Alerting with Prometheus — rules & 🚨 pages.';
  return {
    trace_id: evidenceTraceIdFor(assessmentId, `${credential}/${n}`),
    source_uri: `microcred://credentials/${credential}`,
    source_id: credential,
    source_type: 'credential',
    snippet,
    start: 10 * n,
    end: 10 * n + snippet.length,
    similarity: 0.82 - n / 10,
    embedding_provider: 'minilm-onnx',
    embedding_model: 'all-MiniLM-L6-v2',
    ...overrides,
  };
}

function evidence(assessmentId: string, seconds: number, degraded = false): EventEnvelope[] {
  return decide(
    'RecordEvidence',
    {
      assessment_id: assessmentId,
      traces: [
        trace(assessmentId, cka, 0),
        trace(assessmentId, prometheus, 1, { embedding_provider: 'lexical', embedding_model: 'lexical-hash-384' }),
      ],
      query_summary: 'kubernetes; gaps: monitoring',
      latency_ms: 40,
      degraded,
      job_key: `recommendations:${assessmentId}:evidence`,
    },
    system,
    seconds,
  );
}

const profileOf = (vector: number[]): StudentSkillProfile => ({
  role_id: roleId,
  skills: [
    { skill: 'kubernetes', proficiency: 1 - vector[0]!, gap: vector[0]! },
    { skill: 'monitoring', proficiency: 1 - vector[1]!, gap: vector[1]! },
  ],
  vector,
});

function recommended(
  assessmentId: string,
  seconds: number,
  profile: StudentSkillProfile | null,
  gptLatency: number | null = 3000,
): EventEnvelope[] {
  const items: RecommendationItem[] = [
    {
      credential_id: cka,
      title: 'Certified Kubernetes Administrator',
      confidence: 0.9,
      rationale: 'Builds on cluster administration.',
      source_trace_ids: [evidenceTraceIdFor(assessmentId, `${cka}/0`)],
      position: 1,
      scores: { content: 0.7, skill_gap: 0.6, collaborative: null },
    },
    {
      credential_id: prometheus,
      title: 'Prometheus Certified Associate',
      confidence: 0.61,
      rationale: 'Closes the monitoring gap.',
      source_trace_ids: [evidenceTraceIdFor(assessmentId, `${prometheus}/1`)],
      position: 2,
      scores: { content: 0.5, skill_gap: 0.9, collaborative: 0.25 },
    },
  ];
  return decide(
    'RecordRecommendations',
    {
      assessment_id: assessmentId,
      recommendation_id: recommendationIdFor(assessmentId),
      summary: { text: 'Strong on orchestration.', strengths: ['kubernetes'], gaps: ['monitoring'], next_steps: [] },
      items,
      degraded: false,
      provider: 'openai',
      model: 'gpt-4o-mini',
      prompt_version: 'rationale-v1',
      tokens_in: 1000,
      tokens_out: 200,
      cost_cents: 0.031234,
      metrics: { total_latency_ms: 5000, gpt_latency_ms: gptLatency, rag_latency_ms: 40, token_cost_cents: 0.051234 },
      profile,
      job_key: `recommendations:${assessmentId}:rank`,
    },
    system,
    seconds,
  );
}

const feedback = (
  assessmentId: string,
  actor: Actor,
  seconds: number,
  data: { credential_id: string; relevance_score: number; acceptance_status?: string; comments?: string },
) =>
  decide(
    'SubmitRecommendationFeedback',
    { assessment_id: assessmentId, recommendation_id: recommendationIdFor(assessmentId), ...data },
    actor,
    seconds,
  );

const all: EventEnvelope[] = [];
const pool = () => bed.platform.pool;

beforeAll(async () => {
  bed = await createTestbed();
  await bed.startRunner(assessmentsProjection);
  await bed.startRunner(recommendationsProjection);
});

afterAll(async () => {
  await bed?.close();
});

async function publish(events: EventEnvelope[]): Promise<void> {
  all.push(...events);
  await bed.publish('assessment', events);
  await bed.caughtUp(recommendationsProjection);
  await bed.caughtUp(assessmentsProjection);
}

describe('an assessment through to its feedback', () => {
  test('EvidenceRetrieved: a pending recommendation with its traces, verbatim and in order', async () => {
    await publish([...submitted(completed, ada, 0), ...evidence(completed, 100)]);
    const result = await recommendationResultOf(pool(), completed);
    expect(result?.recommendation).toMatchObject({
      recommendation_id: recommendationIdFor(completed),
      assessment_id: completed,
      role_id: null,
      status: 'pending',
      summary: { text: '', strengths: [], gaps: [], next_steps: [] },
      degraded: false,
      evidence_degraded: false,
      query_summary: 'kubernetes; gaps: monitoring',
      retrieved_at: at(100),
      generated_at: null,
      completed_at: null,
      metrics: null,
    });
    expect(result?.items).toEqual([]);
    expect(result?.traces).toEqual(
      [trace(completed, cka, 0), trace(completed, prometheus, 1)].map((t, i) => ({
        ...t,
        position: i + 1,
        similarity: Number(t.similarity.toFixed(3)),
        embedding_provider: i === 0 ? 'minilm-onnx' : 'lexical',
        embedding_model: i === 0 ? 'all-MiniLM-L6-v2' : 'lexical-hash-384',
      })),
    );
  });

  test('RecommendationsGenerated + AssessmentCompleted: ready, with items, profile and metric snapshots', async () => {
    await publish(recommended(completed, 200, profileOf([0, 0.67])));
    const result = await recommendationResultOf(pool(), completed);
    const id = recommendationIdFor(completed);
    expect(result?.recommendation).toMatchObject({
      status: 'ready',
      role_id: roleId,
      summary: { text: 'Strong on orchestration.', strengths: ['kubernetes'], gaps: ['monitoring'], next_steps: [] },
      // The essay was scored offline: the assessment is degraded though the ranking was not.
      degraded: true,
      recommendation_degraded: false,
      provider: 'openai',
      model: 'gpt-4o-mini',
      prompt_version: 'rationale-v1',
      tokens_in: 1000,
      tokens_out: 200,
      cost_cents: 0.031234,
      metrics: { total_latency_ms: 5000, gpt_latency_ms: 3000, rag_latency_ms: 40, token_cost_cents: 0.051234 },
      profile: profileOf([0, 0.67]),
      generated_at: at(200),
      completed_at: at(200),
    });
    expect(result?.items).toEqual([
      {
        item_id: recommendationItemIdOf(id, cka),
        credential_id: cka,
        title: 'Certified Kubernetes Administrator',
        confidence: 0.9,
        rationale: 'Builds on cluster administration.',
        source_trace_ids: [evidenceTraceIdFor(completed, `${cka}/0`)],
        position: 1,
        scores: { content: 0.7, skill_gap: 0.6, collaborative: null },
      },
      expect.objectContaining({
        item_id: recommendationItemIdOf(id, prometheus),
        credential_id: prometheus,
        position: 2,
        confidence: 0.61,
        scores: { content: 0.5, skill_gap: 0.9, collaborative: 0.25 },
      }),
    ]);
    const { rows } = await pool().query(
      'SELECT id, metric_type, value::float8 AS value, captured_at FROM metric_snapshots WHERE assessment_id = $1 ORDER BY metric_type',
      [completed],
    );
    expect(rows).toEqual(
      (
        [
          ['gpt_latency_ms', 3000],
          ['rag_latency_ms', 40],
          ['token_cost_cents', 0.051234],
          ['total_latency_ms', 5000],
        ] as const
      ).map(([metric, value]) => ({
        id: metricSnapshotIdOf(completed, metric),
        metric_type: metric,
        value,
        captured_at: new Date(at(200)),
      })),
    );
    expect(await findRecommendation(pool(), id)).toEqual(result?.recommendation);
    expect(await findRecommendationItem(pool(), recommendationItemIdOf(id, prometheus))).toEqual({
      item_id: recommendationItemIdOf(id, prometheus),
      recommendation_id: id,
      credential_id: prometheus,
    });
    expect(await findRecommendationItem(pool(), randomUUID())).toBeUndefined();
  });

  test('RecommendationFeedbackReceived: one row per person and item, holding the latest revision', async () => {
    await publish([
      ...feedback(completed, ada, 300, { credential_id: cka, relevance_score: 2, acceptance_status: 'pending' }),
      ...feedback(completed, ada, 310, {
        credential_id: cka,
        relevance_score: 5,
        acceptance_status: 'accepted',
        comments: 'On second thought, exactly right.',
      }),
      ...feedback(completed, advisor, 320, {
        credential_id: prometheus,
        relevance_score: 1,
        acceptance_status: 'rejected',
      }),
    ]);
    const id = recommendationIdFor(completed);
    expect(await feedbackOf(pool(), id)).toEqual([
      {
        feedback_id: recommendationFeedbackIdOf(id, cka, ada.id),
        recommendation_id: id,
        assessment_id: completed,
        credential_id: cka,
        submitted_by: { id: ada.id, role: 'student' },
        relevance_score: 5,
        acceptance_status: 'accepted',
        comments: 'On second thought, exactly right.',
        revision: 2,
        submitted_at: at(310),
        first_submitted_at: at(300),
      },
      expect.objectContaining({
        credential_id: prometheus,
        submitted_by: { id: advisor.id, role: 'advisor' },
        relevance_score: 1,
        acceptance_status: 'rejected',
        comments: null,
        revision: 1,
      }),
    ]);
    expect(await feedbackOf(pool(), id, { credentialId: prometheus })).toHaveLength(1);
    expect(await feedbackOf(pool(), id, { credentialId: cka, submittedBy: advisor.id })).toEqual([]);
  });
});

describe('failures', () => {
  test('AssessmentFailed after the evidence: failed with the reason, the evidence kept', async () => {
    await publish([
      ...submitted(failedAfterEvidence, bob, 400),
      ...evidence(failedAfterEvidence, 500, true),
      ...decide(
        'FailAssessment',
        { assessment_id: failedAfterEvidence, reason: 'No active credentials.' },
        system,
        510,
      ),
    ]);
    const result = await recommendationResultOf(pool(), failedAfterEvidence);
    expect(result?.recommendation).toMatchObject({
      status: 'failed',
      failed_reason: 'No active credentials.',
      failed_at: at(510),
      evidence_degraded: true,
      degraded: true,
    });
    expect(result?.traces).toHaveLength(2);
  });

  test('AssessmentFailed before any evidence: a failed row of its own, so the reason is known', async () => {
    await publish([
      ...decide(
        'StartAssessment',
        {
          assessment_id: failedInProgress,
          user_id: bob.id,
          role_id: roleId,
          role_name: 'Cloud engineer',
          questions,
          expires_at: at(8000),
          metadata: null,
        },
        bob,
        600,
      ),
      ...decide('FailAssessment', { assessment_id: failedInProgress, reason: 'Withdrawn by an admin.' }, system, 610),
    ]);
    expect(await recommendationOfAssessment(pool(), failedInProgress)).toMatchObject({
      recommendation_id: recommendationIdFor(failedInProgress),
      status: 'failed',
      failed_reason: 'Withdrawn by an admin.',
      retrieved_at: null,
    });
    expect(await recommendationOfAssessment(pool(), randomUUID())).toBeUndefined();
  });
});

describe('priorStudentsOf (the collaborative signal)', () => {
  beforeAll(async () => {
    await publish([
      ...submitted(newer, bob, 700),
      ...evidence(newer, 800),
      ...recommended(newer, 900, profileOf([0.5, 0.1]), null),
      ...submitted(withoutProfile, bob, 1000),
      ...evidence(withoutProfile, 1100),
      ...recommended(withoutProfile, 1200, null),
    ]);
  });

  test('ready recommendations of the role with a profile, newest first, with each person’s latest feedback', async () => {
    expect(await priorStudentsOf(pool(), roleId)).toEqual([
      { student_id: bob.id, assessment_id: newer, role_id: roleId, vector: [0.5, 0.1], feedback: [] },
      {
        student_id: ada.id,
        assessment_id: completed,
        role_id: roleId,
        vector: [0, 0.67],
        feedback: expect.arrayContaining([
          { credential_id: cka, status: 'accepted', relevance: 1 },
          { credential_id: prometheus, status: 'rejected', relevance: 0 },
        ]),
      },
    ]);
    const [, ofAda] = await priorStudentsOf(pool(), roleId);
    expect(ofAda?.feedback).toHaveLength(2);
  });

  test('leaves out the assessment being ranked, keeps to the limit, and knows nothing of other roles', async () => {
    expect((await priorStudentsOf(pool(), roleId, { excludeAssessmentId: newer })).map((s) => s.assessment_id)).toEqual(
      [completed],
    );
    expect((await priorStudentsOf(pool(), roleId, { limit: 1 })).map((s) => s.assessment_id)).toEqual([newer]);
    expect(await priorStudentsOf(pool(), otherRoleId)).toEqual([]);
    expect(await priorStudentsOf(pool(), 'not-a-uuid')).toEqual([]);
  });

  test('a metric not measured (no LLM call) has no snapshot', async () => {
    const { rows } = await pool().query<{ metric_type: string }>(
      'SELECT metric_type FROM metric_snapshots WHERE assessment_id = $1 ORDER BY metric_type',
      [newer],
    );
    expect(rows.map((r) => r.metric_type)).toEqual(['rag_latency_ms', 'token_cost_cents', 'total_latency_ms']);
  });
});

describe('replay', () => {
  const TABLES = [
    'recommendations',
    'rag_traces',
    'recommendation_items',
    'recommendation_feedback',
    'metric_snapshots',
  ];

  async function rows() {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) out[table] = (await pool().query(`SELECT * FROM ${table} ORDER BY id`)).rows;
    return out;
  }

  test('every event applied again changes nothing, an older one after a newer one included', async () => {
    const before = await rows();
    expect(before.recommendations).toHaveLength(5);
    for (const event of all) await bed.applyDirectly(recommendationsProjection, event);
    for (const event of [...all].reverse()) await bed.applyDirectly(recommendationsProjection, event);
    expect(await rows()).toEqual(before);
  });

  test('a rebuild from offset 0 writes the same rows', async () => {
    const before = await rows();
    await bed.stopRunners();
    await bed.reset(recommendationsProjection, [...TABLES].reverse());
    expect((await rows()).recommendations).toEqual([]);
    await bed.startRunner(recommendationsProjection);
    await bed.caughtUp(recommendationsProjection);
    expect(await rows()).toEqual(before);
  });
});
