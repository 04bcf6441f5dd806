import { v5 } from 'uuid';
import type { AssessmentEvent, AssessmentState, RecommendationItem } from '../../domain/assessment/assessment';
import { assessmentDecider, type AssessmentCommand } from '../../domain/assessment/decide';
import { recommendationIdFor } from '../../domain/assessment/recommendations';
import {
  admin,
  advisor,
  assessmentId,
  decided,
  design,
  essayText,
  meta,
  orchestrator,
  recordEssayScore,
  respond,
  roleId,
  started,
  student,
  studentId,
  submittedWithEssay,
  system,
  toolbox,
} from '../../domain/assessment/testing/fixtures';
import { idFromKey } from '../../domain/shared/ids';
import { recommendationItemIdOf } from '../../projections/recommendations/projection';
import { avroType } from '../../schemas/avroTypes';
import { schemaFor } from '../../schemas/catalog';
import {
  foldFacts,
  publicEventFor,
  publicSchemaNames,
  type AssessmentEnvelope,
  type PublicDraft,
  type PublisherFacts,
} from './mapping';

const later = '2025-03-01T09:35:00.000Z';
const muchLater = '2025-03-02T10:00:00.000Z';
const cka = idFromKey('credential', 'cka');
const prometheus = idFromKey('credential', 'prometheus');
const recommendationId = recommendationIdFor(assessmentId);
const comment = 'My manager Ada Lovelace (ada@example.com) said so';

const essayScore = (degraded = false): AssessmentCommand =>
  recordEssayScore({
    criteria: [{ criterion_id: 'reasoning', band_score: 3, max_band_score: 4, evidence: essayText, rationale: 'ok' }],
    provider: degraded ? 'offline' : 'openai',
    degraded,
  });

const evidence = (degraded = false): AssessmentCommand => ({
  type: 'RecordEvidence',
  data: { assessment_id: assessmentId, traces: [], query_summary: 'q', latency_ms: 40, degraded, job_key: null },
  metadata: meta(system, later),
});

const item = (credential_id: string, position: number, confidence: number): RecommendationItem => ({
  credential_id,
  title: `Credential ${position}`,
  confidence,
  rationale: 'Because.',
  source_trace_ids: [],
  position,
  scores: { content: 0.5, skill_gap: 0.5, collaborative: null },
});

const recommend = (degraded = false): AssessmentCommand => ({
  type: 'RecordRecommendations',
  data: {
    assessment_id: assessmentId,
    recommendation_id: recommendationId,
    summary: { text: 'Strong on orchestration.', strengths: [], gaps: [], next_steps: [] },
    // Out of order on purpose: the public record lists them by position.
    items: [item(prometheus, 2, 0.6), item(cka, 1, 0.9)],
    degraded,
    provider: 'openai',
    model: 'gpt-4o-mini',
    prompt_version: 'rationale-v1',
    tokens_in: null,
    tokens_out: null,
    cost_cents: null,
    metrics: { total_latency_ms: 5000, gpt_latency_ms: null, rag_latency_ms: 40, token_cost_cents: 0 },
    profile: {
      role_id: roleId,
      skills: [
        { skill: 'kubernetes', proficiency: 0.9, gap: 0 },
        { skill: 'monitoring', proficiency: 0.25, gap: 0.67 },
      ],
      vector: [0, 0.67],
    },
    job_key: null,
  },
  metadata: meta(system, later),
});

const feedback = (actor = student, comments: string | null = comment): AssessmentCommand => ({
  type: 'SubmitRecommendationFeedback',
  data: {
    assessment_id: assessmentId,
    recommendation_id: recommendationId,
    credential_id: prometheus,
    relevance_score: 4,
    acceptance_status: 'accepted',
    comments,
  },
  metadata: meta(actor, muchLater),
});

const fail = (reason = 'No active credential teaches a skill of the role.'): AssessmentCommand => ({
  type: 'FailAssessment',
  data: { assessment_id: assessmentId, reason },
  metadata: meta(system, later),
});

const completed = decided(submittedWithEssay, essayScore(), evidence(), recommend());

/** Envelopes as the events topic carries them (ids and instants derived from the position). */
function envelopes(events: AssessmentEvent[]): AssessmentEnvelope[] {
  return events.map(
    (event, i) =>
      ({
        event_id: v5(`event/${i}`, '6f1e0c1a-1d5b-4a57-9a64-4f1d0c7f2b11'),
        aggregate_id: assessmentId,
        aggregate_type: 'assessment',
        version: i + 1,
        occurred_at: new Date(Date.parse(later) + i * 1000).toISOString(),
        actor: student,
        correlation_id: 'c',
        causation_id: null,
        ...event,
      }) as AssessmentEnvelope,
  );
}

/** What the publisher does: each event's public draft from the facts before it, then the fold. */
function publish(events: AssessmentEvent[]): { drafts: PublicDraft[]; facts: PublisherFacts | undefined } {
  let facts: PublisherFacts | undefined;
  const drafts: PublicDraft[] = [];
  for (const envelope of envelopes(events)) {
    const draft = publicEventFor(facts, envelope);
    if (draft) drafts.push(draft);
    facts = foldFacts(facts, envelope);
  }
  return { drafts, facts };
}

const stateOf = (events: AssessmentEvent[]): AssessmentState =>
  events.reduce(assessmentDecider.evolve, assessmentDecider.initialState());

/** Every draft is valid for its Avro contract, and survives the wire unchanged. */
function expectWireSafe(draft: PublicDraft): void {
  const type = avroType(schemaFor('public', 'public', publicSchemaNames[draft.type])!.schema);
  expect(type.isValid(draft.data)).toBe(true);
  expect(type.fromBuffer(type.toBuffer(draft.data))).toEqual(draft.data);
}

describe('internal assessment events → public events', () => {
  test('a completed assessment: role, points per question type and overall, skills, ranking by position, instants', () => {
    const { drafts, facts } = publish(completed);
    expect(facts).toBeUndefined(); // dropped once published
    expect(drafts).toHaveLength(1);
    const [draft] = drafts as [PublicDraft & { type: 'assessment.completed' }];
    const source = envelopes(completed).at(-1)!;
    expect(source.type).toBe('AssessmentCompleted');
    expect(draft).toMatchObject({ type: 'assessment.completed', id: source.event_id, subject: assessmentId });
    expect(draft.time).toBe(source.occurred_at);
    const state = stateOf(completed) as Extract<AssessmentState, { status: 'completed' }>;
    const toolboxScore = state.rule_scores[toolbox.question_id]!.score;
    expect(draft.data).toEqual({
      assessment_id: assessmentId,
      role_id: roleId,
      role_name: 'Cloud engineer',
      scores_by_question_type: [
        { question_type: 'multiple_choice', score: 2 + toolboxScore, max_score: 5, questions: 2, scored: 2 },
        { question_type: 'profile', score: 0, max_score: 5, questions: 1, scored: 0 },
        { question_type: 'essay', score: 3, max_score: 4, questions: 1, scored: 1 },
      ],
      skill_scores: [
        { skill: 'kubernetes', proficiency: 0.9, gap: 0 },
        { skill: 'monitoring', proficiency: 0.25, gap: 0.67 },
      ],
      overall_score: {
        score: 5 + toolboxScore,
        max_score: 14,
        ratio: Math.round(((5 + toolboxScore) / 14) * 10_000) / 10_000,
      },
      degraded: false,
      recommendation_id: recommendationId,
      recommendations: [
        { item_id: recommendationItemIdOf(recommendationId, cka), credential_id: cka, position: 1, confidence: 0.9 },
        {
          item_id: recommendationItemIdOf(recommendationId, prometheus),
          credential_id: prometheus,
          position: 2,
          confidence: 0.6,
        },
      ],
      submitted_at: state.submitted_at,
      completed_at: state.completed_at,
    });
    expectWireSafe(draft);
  });

  test('degraded when any stage fell back (an offline essay score), as the assessment says', () => {
    const events = decided(submittedWithEssay, essayScore(true), evidence(), recommend());
    const { drafts } = publish(events);
    expect(stateOf(events)).toMatchObject({ status: 'completed', degraded: true });
    expect(drafts[0]!.data).toMatchObject({ degraded: true });
  });

  test('scores follow the domain: the latest revision of a rule score, an override replacing the essay score', () => {
    const revised = decided(
      [started],
      respond([{ question_id: orchestrator.question_id, answer: 'docker' }]),
      respond([{ question_id: orchestrator.question_id, answer: 'kubernetes' }]),
      respond(
        [
          { question_id: toolbox.question_id, answer: { selected: ['kubernetes', 'docker', 'helm'] } },
          { question_id: design.question_id, answer: essayText },
        ],
        { complete: true },
      ),
      essayScore(),
      {
        type: 'OverrideEssayScore',
        data: { assessment_id: assessmentId, question_id: design.question_id, score: 3.5, reason: 'Covers failover.' },
        metadata: meta(advisor, later),
      },
      evidence(),
      recommend(),
    );
    expect(revised.filter((e) => e.type === 'ResponseRuleScored').length).toBeGreaterThan(2);
    const state = stateOf(revised) as Extract<AssessmentState, { status: 'completed' }>;
    const { drafts } = publish(revised);
    const data = drafts[0]!.data as { scores_by_question_type: { question_type: string; score: number }[] };
    const points = Object.fromEntries(data.scores_by_question_type.map((t) => [t.question_type, t.score]));
    expect(points).toEqual({
      multiple_choice:
        state.rule_scores[orchestrator.question_id]!.score + state.rule_scores[toolbox.question_id]!.score,
      profile: 0,
      essay: 3.5,
    });
    expect(state.essay_scores[design.question_id]!.score).toBe(3.5);
  });

  test('an essay that could not be scored counts 0 and makes the result degraded', () => {
    const events = decided(
      submittedWithEssay,
      {
        type: 'ReportEssayScoringFailed',
        data: { assessment_id: assessmentId, question_id: design.question_id, revision: 1, reason: 'x', attempts: 5 },
        metadata: meta(system, later),
      } as AssessmentCommand,
      evidence(),
      recommend(),
    );
    expect(events.some((e) => e.type === 'EssayScoringFailed')).toBe(true);
    const { drafts } = publish(events);
    expect(drafts[0]!.data).toMatchObject({
      degraded: true,
      scores_by_question_type: expect.arrayContaining([
        { question_type: 'essay', score: 0, max_score: 4, questions: 1, scored: 0 },
      ]),
    });
  });

  test('a failed assessment: role, reason, degraded so far, failed_at', () => {
    const events = decided(submittedWithEssay, essayScore(true), fail());
    const { drafts, facts } = publish(events);
    expect(facts).toBeUndefined();
    expect(drafts).toHaveLength(1);
    const source = envelopes(events).at(-1)!;
    expect(drafts[0]).toEqual({
      type: 'assessment.failed',
      id: source.event_id,
      subject: assessmentId,
      time: source.occurred_at,
      data: {
        assessment_id: assessmentId,
        role_id: roleId,
        role_name: 'Cloud engineer',
        reason: 'No active credential teaches a skill of the role.',
        degraded: true,
        failed_at: (stateOf(events) as Extract<AssessmentState, { status: 'failed' }>).failed_at,
      },
    });
    expectWireSafe(drafts[0]!);
  });

  test('feedback: one event per revision, the submitter as a role only, never the comment', () => {
    const events = decided(completed, feedback(), feedback(advisor, null), feedback(student, 'changed my mind'));
    const { drafts } = publish(events);
    const feedbacks = drafts.filter((d) => d.type === 'recommendation.feedback_received');
    expect(feedbacks.map((d) => d.data)).toEqual([
      expect.objectContaining({ submitted_by_role: 'student', revision: 1 }),
      expect.objectContaining({ submitted_by_role: 'advisor', revision: 1 }),
      expect.objectContaining({ submitted_by_role: 'student', revision: 2 }),
    ]);
    const source = envelopes(events).find((e) => e.type === 'RecommendationFeedbackReceived')!;
    expect(feedbacks[0]).toEqual({
      type: 'recommendation.feedback_received',
      id: source.event_id,
      subject: assessmentId,
      time: source.occurred_at,
      data: {
        assessment_id: assessmentId,
        recommendation_id: recommendationId,
        item_id: recommendationItemIdOf(recommendationId, prometheus),
        credential_id: prometheus,
        relevance_score: 4,
        acceptance_status: 'accepted',
        submitted_by_role: 'student',
        revision: 1,
        received_at: muchLater,
      },
    });
    for (const draft of feedbacks) expectWireSafe(draft);
  });

  test('order per assessment: completed, then its feedback', () => {
    const { drafts } = publish(decided(completed, feedback(admin)));
    expect(drafts.map((d) => d.type)).toEqual(['assessment.completed', 'recommendation.feedback_received']);
  });

  test('no personal data: no user id, answer, essay text or comment in any public event or in the kept facts', () => {
    const events = decided(completed, feedback(), feedback(advisor));
    const kept: unknown[] = [];
    let facts: PublisherFacts | undefined;
    const drafts: PublicDraft[] = [];
    for (const envelope of envelopes(events)) {
      const draft = publicEventFor(facts, envelope);
      if (draft) drafts.push(draft);
      facts = foldFacts(facts, envelope);
      kept.push(facts);
    }
    const text = JSON.stringify([drafts, kept]);
    for (const secret of [studentId, advisor.id, essayText, comment, 'ada@example.com', 'docker', 'source']) {
      expect(text).not.toContain(secret);
    }
  });

  test('nothing for other events, nor for an ending whose start was never seen', () => {
    const drafts = publish(submittedWithEssay).drafts;
    expect(drafts).toEqual([]);
    const [completedEvent] = envelopes(completed).slice(-1);
    expect(publicEventFor(undefined, completedEvent!)).toBeUndefined();
    const [failedEvent] = envelopes(decided(submittedWithEssay, fail())).slice(-1);
    expect(publicEventFor(undefined, failedEvent!)).toBeUndefined();
  });

  test('folding an event twice (a redelivery) changes nothing the domain would not', () => {
    let facts: PublisherFacts | undefined;
    for (const envelope of envelopes(completed.slice(0, -1))) {
      facts = foldFacts(foldFacts(facts, envelope), envelope);
    }
    let once: PublisherFacts | undefined;
    for (const envelope of envelopes(completed.slice(0, -1))) once = foldFacts(once, envelope);
    expect(facts).toEqual(once);
  });
});
