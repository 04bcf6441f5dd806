import { randomUUID } from 'node:crypto';
import type { EvidenceTrace, RecommendationItem, StudentSkillProfile } from '../../../domain/assessment/assessment';
import { evidenceTraceIdFor, recommendationIdFor } from '../../../domain/assessment/recommendations';
import type { Actor } from '../../../domain/shared/decider';
import { recommendationItemIdOf, recommendationsProjection } from '../../../projections/recommendations/projection';
import { priorStudentsOf } from '../../../projections/recommendations/queries';
import {
  allRequiredAnswers,
  createRoleWithQuestions,
  essayAnswer,
  startAssessment,
  type RoleFixture,
} from '../../../test/support/catalogFixture';
import { submitWithEssay } from '../../../test/support/essays';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';
import { createCommandClient } from '../../messaging/commandClient';
import { MessageCodec } from '../../messaging/messageCodec';
import { inTransaction } from '../../platform/postgres/pool';
import { kafkaAssessmentReplay } from '../../replay/logSource';

jest.setTimeout(180_000);

/**
 * The result and the feedback through the API, on the real stack with no processors
 * (`ROLES: api,deciders,projections`): the spec plays the recommendation processor itself,
 * sending the essay score, RecordEvidence and RecordRecommendations as the system actor through
 * a command client, exactly as the processor does. 409 before submission, 202 with progress and
 * Retry-After while processing, 200 validated against the contract once completed; feedback
 * 201 with revisions, 400/422/404/403/409; a failed assessment's 409 with its reason; the
 * projection replayed from the log changes nothing.
 */
let sys: TestSystem;
let role: RoleFixture;
let client: Awaited<ReturnType<typeof createCommandClient>>;
let student: { userId: string; token: string };
let otherStudent: { token: string };
let advisor: { userId: string; token: string };
const credentials: { id: string; title: string; description: string }[] = [];
const SYSTEM: Actor = { id: 'system:recommendations', role: 'system' };

beforeAll(async () => {
  sys = await startTestSystem({ ROLES: 'api,deciders,projections' });
  const { platform } = sys.running;
  client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'spec-reco');
  role = await createRoleWithQuestions(sys);
  [student, otherStudent, advisor] = await Promise.all([
    sys.registerAndLogin('student'),
    sys.registerAndLogin('student'),
    sys.registerAndLogin('advisor'),
  ]);
  const admin = await sys.adminToken();
  for (const [title, description] of [
    ['Certified Kubernetes Administrator', 'Hands-on cluster administration: upgrades, networking and storage.'],
    ['Terraform Associate', 'Infrastructure as code with Terraform: modules, state and plans.'],
  ]) {
    const res = await sys.request('POST', '/api/v1/catalog/credentials', {
      token: admin,
      body: { title, description, skills: ['kubernetes', 'terraform'] },
    });
    if (res.status !== 201) throw new Error(`create credential: ${res.status} ${JSON.stringify(res.body)}`);
    credentials.push({ id: res.body.credential_id, title: title!, description: description! });
  }
});
afterAll(async () => {
  await client?.stop();
  await sys?.stop();
});

const api = (path: string) => `/api/v1${path}`;

// --- the recommendation processor, played by the spec -----------------------------------------

async function report(assessmentId: string, type: string, data: Record<string, unknown>): Promise<void> {
  const sent = await client.bus.send('assessment', {
    command_id: randomUUID(),
    type,
    aggregate_id: assessmentId,
    issued_at: new Date().toISOString(),
    actor: SYSTEM,
    correlation_id: randomUUID(),
    data,
  });
  if (sent.status !== 'replied' || sent.reply.outcome !== 'accepted') {
    throw new Error(`${type}: ${JSON.stringify(sent)}`);
  }
}

function scoreEssay(assessmentId: string, degraded = false) {
  return report(assessmentId, 'RecordEssayScore', {
    assessment_id: assessmentId,
    question_id: role.essay,
    revision: 1,
    score: 3.5,
    criteria: [],
    explanation: 'Canary, probes, rollback.',
    provider: degraded ? 'offline' : 'openai',
    model: degraded ? 'offline-rubric' : 'gpt-4o-mini',
    prompt_version: 'essay-v1',
    degraded,
    flags: [],
    needs_review: false,
    tokens_in: 800,
    tokens_out: 150,
    cost_cents: 0.02,
    latency_ms: 900,
    job_key: null,
    embedding: null,
  });
}

/** One passage of each credential's description, quoted verbatim with its offsets. */
function tracesOf(assessmentId: string, lexical = false): EvidenceTrace[] {
  return credentials.map((c, i) => {
    const start = c.description.indexOf(':') + 2;
    const snippet = c.description.slice(start);
    return {
      trace_id: evidenceTraceIdFor(assessmentId, `${c.id}/0`),
      source_uri: `microcred://credentials/${c.id}`,
      source_id: c.id,
      source_type: 'credential',
      snippet,
      start,
      end: start + snippet.length,
      similarity: 0.8 - i / 10,
      embedding_provider: lexical || i === 1 ? 'lexical' : 'minilm-onnx',
      embedding_model: lexical || i === 1 ? 'lexical-hash-384' : 'all-MiniLM-L6-v2',
    };
  });
}

function recordEvidence(assessmentId: string, lexical = false) {
  return report(assessmentId, 'RecordEvidence', {
    assessment_id: assessmentId,
    traces: tracesOf(assessmentId, lexical),
    query_summary: 'kubernetes, terraform; gaps: terraform',
    latency_ms: 35,
    degraded: lexical,
    job_key: `recommendations:${assessmentId}:evidence`,
  });
}

const profile = (): StudentSkillProfile => ({
  role_id: role.roleId,
  skills: [
    { skill: 'kubernetes', proficiency: 0.8, gap: 0.6 },
    { skill: 'terraform', proficiency: 0.2, gap: 1.6 },
  ],
  vector: [0.6, 1.6],
});

function recordRecommendations(assessmentId: string, composed = false) {
  const items: RecommendationItem[] = credentials.map((c, i) => ({
    credential_id: c.id,
    title: c.title,
    confidence: 0.82 - i * 0.2,
    rationale: `Covers ${i === 0 ? 'kubernetes' : 'terraform'} [${evidenceTraceIdFor(assessmentId, `${c.id}/0`)}].`,
    source_trace_ids: [evidenceTraceIdFor(assessmentId, `${c.id}/0`)],
    position: i + 1,
    scores: { content: 0.6, skill_gap: 0.4 + i / 10, collaborative: i === 0 ? null : 0.2 },
  }));
  return report(assessmentId, 'RecordRecommendations', {
    assessment_id: assessmentId,
    recommendation_id: recommendationIdFor(assessmentId),
    summary: {
      text: 'Solid on orchestration; infrastructure as code is the gap.',
      strengths: ['kubernetes'],
      gaps: ['terraform'],
      next_steps: ['Take the Terraform Associate'],
    },
    items,
    degraded: composed,
    provider: composed ? 'composed' : 'openai',
    model: composed ? 'templates' : 'gpt-4o-mini',
    prompt_version: 'rationale-v1',
    tokens_in: composed ? null : 1200,
    tokens_out: composed ? null : 300,
    cost_cents: composed ? null : 0.04,
    metrics: {
      total_latency_ms: 4200,
      gpt_latency_ms: composed ? null : 2100,
      rag_latency_ms: 35,
      token_cost_cents: composed ? 0.02 : 0.06,
    },
    profile: profile(),
    job_key: `recommendations:${assessmentId}:rank`,
  });
}

// --- HTTP ------------------------------------------------------------------------------------

async function result(id: string, token = student.token): Promise<HttpResult> {
  const res = await sys.request('GET', api(`/assessments/${id}/result`), { token });
  expectMatchesContract('GET', '/assessments/{assessment_id}/result', res);
  return res;
}

/** Polls the result until `accept` holds (the read models catch up asynchronously). */
function resultWhen(id: string, accept: (res: HttpResult) => boolean, what: string, token = student.token) {
  return eventually(
    async () => {
      const res = await result(id, token);
      return accept(res) ? res : undefined;
    },
    30_000,
    what,
  );
}

async function feedback(pathId: string, body: unknown, token = student.token): Promise<HttpResult> {
  const res = await sys.request('POST', api(`/recommendations/${pathId}/feedback`), { token, body });
  expectMatchesContract('POST', '/recommendations/{recommendation_id}/feedback', res);
  return res;
}

/** Submitted, essay scored, evidence and recommendations recorded, result readable. */
async function completedAssessment(): Promise<string> {
  const id = await submitWithEssay(sys, role, student.token, essayAnswer);
  await scoreEssay(id);
  await recordEvidence(id);
  await recordRecommendations(id);
  await resultWhen(id, (r) => r.status === 200, 'the result');
  return id;
}

describe('GET /assessments/{id}/result', () => {
  test('409 before submission, 202 with progress while processing, 200 once completed', async () => {
    const id = await startAssessment(sys, student.token, role.roleId);
    const early = await result(id);
    expect(early.status).toBe(409);
    expect(early.body.error_code).toBe('ASSESSMENT_NOT_SUBMITTED');

    const submit = await sys.request('POST', api(`/assessments/${id}/responses`), {
      token: student.token,
      body: { completed: true, responses: allRequiredAnswers(role) },
    });
    expect(submit.status).toBe(202);
    const waiting = await resultWhen(id, (r) => r.status === 202, 'the 202');
    expect(waiting.headers.get('retry-after')).toBe('2');
    expect(waiting.body).toEqual({
      assessment_id: id,
      status: 'awaiting_async',
      progress: {
        essays_total: 1,
        essays_scored: 0,
        essays_failed: 0,
        evidence_ready: false,
        recommendations_ready: false,
      },
      retry_after_seconds: 2,
      message: expect.any(String),
    });

    await scoreEssay(id);
    await resultWhen(id, (r) => r.body.progress?.essays_scored === 1, 'the essay in the progress');
    await recordEvidence(id);
    const withEvidence = await resultWhen(id, (r) => r.body.progress?.evidence_ready === true, 'the evidence');
    expect(withEvidence.status).toBe(202);
    expect(withEvidence.body.progress.recommendations_ready).toBe(false);

    await recordRecommendations(id);
    const done = await resultWhen(id, (r) => r.status === 200, 'the result');
    const traces = tracesOf(id);
    expect(done.body).toEqual({
      assessment_id: id,
      recommendation_id: recommendationIdFor(id),
      summary: 'Solid on orchestration; infrastructure as code is the gap.',
      summary_details: { strengths: ['kubernetes'], gaps: ['terraform'], next_steps: ['Take the Terraform Associate'] },
      recommendation_items: credentials.map((c, i) => ({
        credential_id: c.id,
        title: c.title,
        confidence: Number((0.82 - i * 0.2).toFixed(3)),
        rationale: expect.stringContaining(evidenceTraceIdFor(id, `${c.id}/0`)),
        source_trace_ids: [evidenceTraceIdFor(id, `${c.id}/0`)],
        item_id: recommendationItemIdOf(recommendationIdFor(id), c.id),
        position: i + 1,
        scores: { content: 0.6, skill_gap: 0.4 + i / 10, collaborative: i === 0 ? null : 0.2 },
      })),
      // MiniLM is the seed's sentence-transformers; the lexical fallback has no seed name.
      traces: [
        {
          trace_id: traces[0]!.trace_id,
          source_uri: traces[0]!.source_uri,
          snippet: traces[0]!.snippet,
          similarity: 0.8,
          embedding_provider: 'sentence-transformers',
          embedding_model: 'all-MiniLM-L6-v2',
          source_type: 'credential',
          source_id: credentials[0]!.id,
          start: traces[0]!.start,
          end: traces[0]!.end,
        },
        {
          trace_id: traces[1]!.trace_id,
          source_uri: traces[1]!.source_uri,
          snippet: traces[1]!.snippet,
          similarity: 0.7,
          embedding_model: 'lexical-hash-384',
          source_type: 'credential',
          source_id: credentials[1]!.id,
          start: traces[1]!.start,
          end: traces[1]!.end,
        },
      ],
      metrics: { total_latency_ms: 4200, token_cost_cents: 0.06, gpt_latency_ms: 2100, rag_latency_ms: 35 },
      degraded: false,
      completed_at: expect.any(String),
      generated_by: {
        provider: 'openai',
        model: 'gpt-4o-mini',
        prompt_version: 'rationale-v1',
        degraded: false,
        generated_at: done.body.completed_at,
      },
      evidence: {
        query_summary: 'kubernetes, terraform; gaps: terraform',
        degraded: false,
        retrieved_at: expect.any(String),
      },
      scores: {
        rule: { score: expect.any(Number), max_score: 2 + 3 + 4 + 1, questions: 4, scored: 3 },
        essay: { score: 3.5, max_score: 5, questions: 1, answered: 1, scored: 1, overridden: 0, failed: 0 },
        questions: expect.arrayContaining([
          expect.objectContaining({ question_id: role.essay, status: 'scored', score: 3.5, provider: 'openai' }),
          expect.objectContaining({ question_id: role.optional, status: 'unanswered' }),
        ]),
      },
    });
    // Every cited trace is one of the result's, and each snippet is its source's text at its offsets.
    const traceIds = new Set(done.body.traces.map((t: { trace_id: string }) => t.trace_id));
    for (const item of done.body.recommendation_items) {
      for (const cited of item.source_trace_ids) expect(traceIds.has(cited)).toBe(true);
    }
    for (const t of done.body.traces) {
      const source = credentials.find((c) => c.id === t.source_id)!;
      expect(source.description.slice(t.start, t.end)).toBe(t.snippet);
    }
    expect(done.body.scores.rule.score).toBeGreaterThan(0);
  });

  test('owner, advisors and admins see it; another student 403; unknown 404', async () => {
    const id = await completedAssessment();
    expect((await result(id, advisor.token)).status).toBe(200);
    expect((await result(id, await sys.adminToken())).status).toBe(200);
    const other = await result(id, otherStudent.token);
    expect({ status: other.status, code: other.body.error_code }).toEqual({
      status: 403,
      code: 'NOT_ASSESSMENT_OWNER',
    });
    for (const unknown of [randomUUID(), 'not-an-id']) {
      const res = await result(unknown);
      expect(res.status).toBe(404);
    }
    const anonymous = await sys.request('GET', api(`/assessments/${id}/result`));
    expect(anonymous.status).toBe(401);
  });

  test('degraded: an essay that could not be scored, lexical evidence and composed rationales', async () => {
    const id = await submitWithEssay(sys, role, student.token, essayAnswer);
    await report(id, 'ReportEssayScoringFailed', {
      assessment_id: id,
      question_id: role.essay,
      revision: 1,
      reason: 'every scorer failed',
      attempts: 3,
      job_key: null,
    });
    await recordEvidence(id, true);
    await recordRecommendations(id, true);
    const done = await resultWhen(id, (r) => r.status === 200, 'the degraded result');
    expect(done.body).toMatchObject({
      degraded: true,
      generated_by: { provider: 'composed', degraded: true },
      evidence: { degraded: true },
      metrics: { total_latency_ms: 4200, token_cost_cents: 0.02, rag_latency_ms: 35 },
      scores: { essay: { score: 0, answered: 1, scored: 0, failed: 1 } },
    });
    expect(done.body.metrics).not.toHaveProperty('gpt_latency_ms');
    for (const t of done.body.traces) expect(t).not.toHaveProperty('embedding_provider');
  });

  test('a failed assessment is 409 ASSESSMENT_FAILED with its reason, before or after its evidence', async () => {
    const afterEvidence = await submitWithEssay(sys, role, student.token, essayAnswer);
    await scoreEssay(afterEvidence);
    await recordEvidence(afterEvidence);
    await report(afterEvidence, 'FailAssessment', {
      assessment_id: afterEvidence,
      reason: 'The role has no active credentials.',
    });
    const beforeEvidence = await submitWithEssay(sys, role, student.token, essayAnswer);
    await report(beforeEvidence, 'FailAssessment', { assessment_id: beforeEvidence, reason: 'Timed out.' });
    for (const [id, reason] of [
      [afterEvidence, 'The role has no active credentials.'],
      [beforeEvidence, 'Timed out.'],
    ] as const) {
      const res = await resultWhen(id, (r) => r.status === 409 && r.body.details?.reason === reason, 'the failure');
      expect(res.body).toEqual({
        error_code: 'ASSESSMENT_FAILED',
        message: expect.stringContaining(reason),
        details: { reason, failed_at: expect.any(String) },
      });
    }
    // Feedback on a recommendation that never became ready.
    const res = await feedback(recommendationIdFor(afterEvidence), {
      relevance_score: 3,
      credential_id: credentials[0]!.id,
    });
    expect({ status: res.status, code: res.body.error_code }).toEqual({
      status: 409,
      code: 'RECOMMENDATIONS_NOT_READY',
    });
  });
});

describe('POST /recommendations/{id}/feedback', () => {
  let id: string;
  let recommendationId: string;
  beforeAll(async () => {
    id = await completedAssessment();
    recommendationId = recommendationIdFor(id);
  });

  test('201 with the recorded feedback; the same again records nothing; a change is the next revision', async () => {
    const [cka] = credentials;
    const first = await feedback(recommendationId, {
      relevance_score: 4,
      acceptance_status: 'accepted',
      comments: 'Exactly what I need.',
      submitted_by_role: 'student',
      credential_id: cka!.id,
    });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      feedback_id: expect.any(String),
      recommendation_id: recommendationId,
      assessment_id: id,
      credential_id: cka!.id,
      relevance_score: 4,
      acceptance_status: 'accepted',
      comments: 'Exactly what I need.',
      submitted_by: { id: student.userId, role: 'student' },
      submitted_by_role: 'student',
      revision: 1,
      new_revision: true,
      submitted_at: expect.any(String),
      first_submitted_at: first.body.submitted_at,
    });
    const again = await feedback(recommendationId, {
      relevance_score: 4,
      acceptance_status: 'accepted',
      comments: 'Exactly what I need.',
      credential_id: cka!.id,
    });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ revision: 1, new_revision: false, feedback_id: first.body.feedback_id });
    const revised = await feedback(recommendationId, {
      relevance_score: 2,
      acceptance_status: 'rejected',
      credential_id: cka!.id,
    });
    expect(revised.body).toMatchObject({
      revision: 2,
      new_revision: true,
      relevance_score: 2,
      acceptance_status: 'rejected',
      comments: null,
      feedback_id: first.body.feedback_id,
      first_submitted_at: first.body.submitted_at,
    });
  });

  test('the path may name an item; an advisor’s feedback is their own; pending by default', async () => {
    const terraform = credentials[1]!;
    const itemId = recommendationItemIdOf(recommendationId, terraform.id);
    const viaItem = await feedback(itemId, { relevance_score: 5 });
    expect(viaItem.status).toBe(201);
    expect(viaItem.body).toMatchObject({
      recommendation_id: recommendationId,
      credential_id: terraform.id,
      acceptance_status: 'pending',
      revision: 1,
    });
    const fromAdvisor = await feedback(
      itemId,
      { relevance_score: 3, acceptance_status: 'accepted', submitted_by_role: 'advisor', credential_id: terraform.id },
      advisor.token,
    );
    expect(fromAdvisor.status).toBe(201);
    expect(fromAdvisor.body).toMatchObject({
      submitted_by: { id: advisor.userId, role: 'advisor' },
      submitted_by_role: 'advisor',
      revision: 1,
    });
    expect(fromAdvisor.body.feedback_id).not.toBe(viaItem.body.feedback_id);
    // The collaborative signal sees each person's latest feedback on each item.
    const prior = await priorStudentsOf(sys.running.platform.pool, role.roleId);
    const mine = prior.find((p) => p.assessment_id === id);
    expect(mine).toMatchObject({ student_id: student.userId, role_id: role.roleId, vector: [0.6, 1.6] });
    expect(mine!.feedback).toEqual(
      expect.arrayContaining([
        { credential_id: terraform.id, status: 'pending', relevance: 1 },
        { credential_id: terraform.id, status: 'accepted', relevance: 0.5 },
      ]),
    );
  });

  test('400 for a body that is not JSON; 422 for invalid feedback, naming the problem', async () => {
    const malformed = await sys.request('POST', api(`/recommendations/${recommendationId}/feedback`), {
      token: student.token,
      headers: { 'content-type': 'application/json' },
      body: '{"relevance_score": 4,',
    });
    expectMatchesContract('POST', '/recommendations/{recommendation_id}/feedback', malformed);
    expect(malformed.status).toBe(400);
    const credential_id = credentials[0]!.id;
    for (const [label, body, code] of [
      ['no relevance', { credential_id }, 'INVALID_FEEDBACK'],
      ['relevance 6', { relevance_score: 6, credential_id }, 'INVALID_FEEDBACK'],
      ['relevance 0', { relevance_score: 0, credential_id }, 'INVALID_FEEDBACK'],
      ['relevance 3.5', { relevance_score: 3.5, credential_id }, 'INVALID_FEEDBACK'],
      ['relevance as text', { relevance_score: '4', credential_id }, 'INVALID_FEEDBACK'],
      ['an unknown status', { relevance_score: 4, acceptance_status: 'maybe', credential_id }, 'INVALID_FEEDBACK'],
      ['an unknown field', { relevance_score: 4, credential_id, stars: 5 }, 'INVALID_FEEDBACK'],
      ['comments too long', { relevance_score: 4, credential_id, comments: 'x'.repeat(2001) }, 'INVALID_FEEDBACK'],
      ['a credential id that is no uuid', { relevance_score: 4, credential_id: 'cka' }, 'INVALID_FEEDBACK'],
      ['a list', [{ relevance_score: 4 }], 'INVALID_FEEDBACK'],
      ['no credential_id', { relevance_score: 4 }, 'CREDENTIAL_ID_REQUIRED'],
      ['another role', { relevance_score: 4, credential_id, submitted_by_role: 'advisor' }, 'SUBMITTER_ROLE_MISMATCH'],
    ] as const) {
      const res = await feedback(recommendationId, body);
      expect({ label, status: res.status, code: res.body.error_code }).toEqual({ label, status: 422, code });
    }
    const named = await feedback(recommendationId, { relevance_score: 6, credential_id });
    expect(named.body.message).toMatch(/relevance_score/);
    expect(named.body.details.problems).toEqual([{ field: 'relevance_score', problem: expect.stringMatching(/<= 5/) }]);
    const itemId = recommendationItemIdOf(recommendationId, credentials[0]!.id);
    const mismatch = await feedback(itemId, { relevance_score: 4, credential_id: credentials[1]!.id });
    expect({ status: mismatch.status, code: mismatch.body.error_code }).toEqual({
      status: 422,
      code: 'CREDENTIAL_MISMATCH',
    });
    const asAdvisor = await feedback(
      recommendationId,
      { relevance_score: 4, credential_id, submitted_by_role: 'student' },
      advisor.token,
    );
    expect(asAdvisor.body.error_code).toBe('SUBMITTER_ROLE_MISMATCH');
    expect(asAdvisor.body.message).toMatch(/signed in as an? advisor/);
  });

  test('404 for an unknown recommendation or a credential it did not recommend; 403 for another student', async () => {
    for (const pathId of [randomUUID(), 'nope']) {
      const res = await feedback(pathId, { relevance_score: 4, credential_id: credentials[0]!.id });
      expect(res.status).toBe(404);
    }
    const unknownItem = await feedback(recommendationId, { relevance_score: 4, credential_id: randomUUID() });
    expect({ status: unknownItem.status, code: unknownItem.body.error_code }).toEqual({
      status: 404,
      code: 'RECOMMENDATION_ITEM_NOT_FOUND',
    });
    const other = await feedback(
      recommendationId,
      { relevance_score: 4, credential_id: credentials[0]!.id },
      otherStudent.token,
    );
    expect({ status: other.status, code: other.body.error_code }).toEqual({
      status: 403,
      code: 'NOT_ASSESSMENT_OWNER',
    });
  });

  test('an Idempotency-Key makes a retry the same command', async () => {
    const body = { relevance_score: 1, acceptance_status: 'rejected', credential_id: credentials[1]!.id };
    const headers = { 'idempotency-key': `fb-${randomUUID()}` };
    const send = () =>
      sys.request('POST', api(`/recommendations/${recommendationId}/feedback`), {
        token: advisor.token,
        body,
        headers,
      });
    const first = await send();
    const retry = await send();
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.revision).toBe(first.body.revision);
  });
});

describe('replay', () => {
  test('the recommendations projection applying the assessment’s events again changes nothing', async () => {
    const id = await completedAssessment();
    await feedback(recommendationIdFor(id), { relevance_score: 4, credential_id: credentials[0]!.id });
    await feedback(recommendationIdFor(id), { relevance_score: 5, credential_id: credentials[0]!.id });
    const { platform } = sys.running;
    const rows = async () => {
      const out: unknown[] = [];
      for (const table of ['rag_traces', 'recommendation_items', 'recommendation_feedback', 'metric_snapshots']) {
        const column =
          table === 'recommendation_items' || table === 'recommendation_feedback'
            ? 'recommendation_id'
            : 'assessment_id';
        const value = column === 'recommendation_id' ? recommendationIdFor(id) : id;
        out.push((await platform.pool.query(`SELECT * FROM ${table} WHERE ${column} = $1 ORDER BY id`, [value])).rows);
      }
      out.push((await platform.pool.query('SELECT * FROM recommendations WHERE assessment_id = $1', [id])).rows);
      return out;
    };
    const before = { rows: await rows(), result: (await result(id)).body };
    const { events } = await kafkaAssessmentReplay(platform, new MessageCodec(platform.codec, platform.topics))(id);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['EvidenceRetrieved', 'RecommendationsGenerated', 'RecommendationFeedbackReceived']),
    );
    for (const event of events) {
      await inTransaction(platform.pool, (c) => recommendationsProjection.apply(c, event));
    }
    expect({ rows: await rows(), result: (await result(id)).body }).toEqual(before);
  });
});
