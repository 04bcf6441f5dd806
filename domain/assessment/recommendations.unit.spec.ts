import type { Actor } from '../shared/decider';
import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey } from '../shared/ids';
import type { AssessmentEvent, EvidenceTrace, RecommendationItem } from './assessment';
import { assessmentDecider } from './decide';
import type { RecordEssayScore } from './essayScoring';
import type {
  FailAssessment,
  RecordEvidence,
  RecordRecommendations,
  SubmitRecommendationFeedback,
} from './recommendations';
import { evidenceTraceIdFor, recommendationIdFor } from './recommendations';
import {
  admin,
  advisor,
  assessmentId,
  design,
  meta,
  orchestrator,
  otherStudent,
  recordEssayScore,
  respond,
  started,
  student,
  system,
  toolbox,
  decided,
  inProgressWithEssay,
  submittedWithEssay,
} from './testing/fixtures';

const given = DeciderSpecification.for(assessmentDecider);
const later = '2025-03-01T09:35:00.000Z';
const muchLater = '2025-03-02T10:00:00.000Z';

const cka = idFromKey('credential', 'cka');
const prometheus = idFromKey('credential', 'prometheus');
const unknownCredential = idFromKey('credential', 'not-recommended');
const recommendationId = recommendationIdFor(assessmentId);
const traceA = evidenceTraceIdFor(assessmentId, 'cka/0');
const traceB = evidenceTraceIdFor(assessmentId, 'prometheus/0');

const inProgress = inProgressWithEssay;
const submitted = submittedWithEssay;
/** Submitted without an essay (a role without essay questions): only recommendations are pending. */
const submittedNoEssay = decided(
  [{ ...started, data: { ...started.data, questions: [orchestrator, toolbox] } }],
  respond(
    [
      { question_id: orchestrator.question_id, answer: 'kubernetes' },
      { question_id: toolbox.question_id, answer: { selected: ['kubernetes'] } },
    ],
    { complete: true },
  ),
);

function essayScore(degraded = false): RecordEssayScore {
  return recordEssayScore({
    criteria: [],
    provider: degraded ? 'offline' : 'openai',
    model: degraded ? 'offline-rubric' : 'gpt-4o-mini',
    degraded,
  });
}

function trace(overrides: Partial<EvidenceTrace> = {}): EvidenceTrace {
  return {
    trace_id: traceA,
    source_uri: `microcred://credentials/${cka}`,
    source_id: cka,
    source_type: 'credential',
    snippet: '  Hands-on cluster administration.',
    start: 10,
    end: 44,
    similarity: 0.82,
    embedding_provider: 'minilm-onnx',
    embedding_model: 'all-MiniLM-L6-v2',
    ...overrides,
  };
}

const traces = [
  trace(),
  trace({
    trace_id: traceB,
    source_id: prometheus,
    source_uri: `microcred://credentials/${prometheus}`,
    snippet: 'Alerting',
    start: 0,
    end: 8,
    similarity: 0.4,
  }),
];

function evidence(overrides: Partial<RecordEvidence['data']> = {}, actor: Actor = system): RecordEvidence {
  return {
    type: 'RecordEvidence',
    data: {
      assessment_id: assessmentId,
      traces,
      query_summary: 'kubernetes; gaps: monitoring',
      latency_ms: 40,
      degraded: false,
      job_key: 'recommendations:a:evidence',
      ...overrides,
    },
    metadata: meta(actor, later),
  };
}

function item(overrides: Partial<RecommendationItem> = {}): RecommendationItem {
  return {
    credential_id: cka,
    title: 'Certified Kubernetes Administrator',
    confidence: 0.9,
    rationale: 'Builds on cluster administration.',
    source_trace_ids: [traceA],
    position: 1,
    scores: { content: 0.7, skill_gap: 0.6, collaborative: null },
    ...overrides,
  };
}

const items = [
  item(),
  item({
    credential_id: prometheus,
    title: 'Prometheus Certified Associate',
    confidence: 0.6,
    rationale: 'Closes the monitoring gap.',
    source_trace_ids: [traceB],
    position: 2,
  }),
];

const profile = {
  role_id: '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  skills: [
    { skill: 'kubernetes', proficiency: 0.9, gap: 0 },
    { skill: 'monitoring', proficiency: 0.25, gap: 0.67 },
  ],
  vector: [0, 0.67],
};

function recommend(
  overrides: Partial<RecordRecommendations['data']> = {},
  actor: Actor = system,
): RecordRecommendations {
  return {
    type: 'RecordRecommendations',
    data: {
      assessment_id: assessmentId,
      recommendation_id: recommendationId,
      summary: { text: 'Strong on orchestration.', strengths: ['kubernetes'], gaps: ['monitoring'], next_steps: [] },
      items,
      degraded: false,
      provider: 'openai',
      model: 'gpt-4o-mini',
      prompt_version: 'rationale-v1',
      tokens_in: 1000,
      tokens_out: 200,
      cost_cents: 0.03,
      metrics: { total_latency_ms: 5000, gpt_latency_ms: 3000, rag_latency_ms: 40, token_cost_cents: 0.05 },
      profile,
      job_key: 'recommendations:a:rank',
      ...overrides,
    },
    metadata: meta(actor, later),
  };
}

function failCommand(actor: Actor = system, reason = 'The role has no active credentials.'): FailAssessment {
  return { type: 'FailAssessment', data: { assessment_id: assessmentId, reason }, metadata: meta(actor, later) };
}

function feedback(
  overrides: Partial<SubmitRecommendationFeedback['data']> = {},
  actor: Actor = student,
  now = muchLater,
): SubmitRecommendationFeedback {
  return {
    type: 'SubmitRecommendationFeedback',
    data: {
      assessment_id: assessmentId,
      recommendation_id: recommendationId,
      credential_id: cka,
      relevance_score: 4,
      acceptance_status: 'accepted',
      comments: 'Just what I need.',
      ...overrides,
    },
    metadata: meta(actor, now),
  };
}

const scored = decided(submitted, essayScore());
const withEvidence = decided(scored, evidence());
const completed = decided(withEvidence, recommend());

describe('Recommendations', () => {
  test('the histories used below are real', () => {
    expect(stateAfter(assessmentDecider, scored)).toMatchObject({
      status: 'awaiting_async',
      pending: ['recommendations'],
    });
    expect(stateAfter(assessmentDecider, submittedNoEssay)).toMatchObject({ pending: ['recommendations'] });
    expect(stateAfter(assessmentDecider, completed)).toMatchObject({ status: 'completed', pending: [] });
  });

  describe('RecordEvidence', () => {
    test('when submitted, the first report becomes EvidenceRetrieved with the snippets verbatim', () => {
      given(scored)
        .when(evidence())
        .then([
          {
            type: 'EvidenceRetrieved',
            data: {
              assessment_id: assessmentId,
              traces,
              query_summary: 'kubernetes; gaps: monitoring',
              latency_ms: 40,
              degraded: false,
              job_key: 'recommendations:a:evidence',
              retrieved_at: later,
            },
          },
        ]);
    });

    test('evidence may arrive while essays are still being scored, and may be empty', () => {
      expect(given(submitted).when(evidence()).thenEvents()).toHaveLength(1);
      expect(
        given(submitted)
          .when(evidence({ traces: [] }))
          .thenEvents(),
      ).toMatchObject([{ data: { traces: [] } }]);
    });

    test('a second report (a retried job) writes nothing; so does one after completion or failure', () => {
      given(withEvidence)
        .when(evidence({ traces: [] }))
        .then([]);
      given(completed).when(evidence()).then([]);
      given(decided(scored, failCommand())).when(evidence()).then([]);
    });

    test('evolve keeps the trace ids; degraded evidence marks the assessment', () => {
      expect(stateAfter(assessmentDecider, withEvidence)).toMatchObject({
        evidence: { trace_ids: [traceA, traceB], degraded: false },
        degraded: false,
      });
      const degraded = decided(scored, evidence({ degraded: true }));
      expect(stateAfter(assessmentDecider, degraded)).toMatchObject({ evidence: { degraded: true }, degraded: true });
    });

    test('only the processor may report; before submission it is refused', () => {
      given(scored).when(evidence({}, admin)).thenThrows('SYSTEM_ACTOR_REQUIRED', { kind: 'forbidden' });
      given(inProgress).when(evidence()).thenThrows('ASSESSMENT_NOT_SUBMITTED', { kind: 'conflict' });
      given([]).when(evidence()).thenThrows('ASSESSMENT_NOT_FOUND', { kind: 'not_found' });
    });

    test('malformed traces are refused: repeated ids, a span that is not the snippet, bad similarity', () => {
      given(scored)
        .when(evidence({ traces: [trace(), trace()] }))
        .thenThrows('INVALID_EVIDENCE', { details: { trace_id: traceA } });
      given(scored)
        .when(evidence({ traces: [trace({ end: 40 })] }))
        .thenThrows('INVALID_EVIDENCE', { details: { field: 'traces[0].end' } });
      given(scored)
        .when(evidence({ traces: [trace({ similarity: 1.5 })] }))
        .thenThrows('INVALID_EVIDENCE', { kind: 'validation', details: { field: 'traces[0].similarity' } });
      given(scored)
        .when(evidence({ traces: [trace({ trace_id: 'trace-1' })] }))
        .thenThrows('INVALID_EVIDENCE', { details: { field: 'traces[0].trace_id' } });
      given(scored)
        .when(evidence({ traces: [trace({ snippet: '   ', start: 0, end: 3 })] }))
        .thenThrows('INVALID_EVIDENCE', { details: { field: 'traces[0].snippet' } });
    });
  });

  describe('RecordRecommendations', () => {
    test('after the essays and the evidence: RecommendationsGenerated, then AssessmentCompleted', () => {
      given(withEvidence)
        .when(recommend({ items: [items[1]!, items[0]!] }))
        .then([
          {
            type: 'RecommendationsGenerated',
            data: {
              assessment_id: assessmentId,
              recommendation_id: recommendationId,
              summary: {
                text: 'Strong on orchestration.',
                strengths: ['kubernetes'],
                gaps: ['monitoring'],
                next_steps: [],
              },
              items, // in position order
              degraded: false,
              provider: 'openai',
              model: 'gpt-4o-mini',
              prompt_version: 'rationale-v1',
              tokens_in: 1000,
              tokens_out: 200,
              cost_cents: 0.03,
              metrics: { total_latency_ms: 5000, gpt_latency_ms: 3000, rag_latency_ms: 40, token_cost_cents: 0.05 },
              profile,
              job_key: 'recommendations:a:rank',
              generated_at: later,
            },
          },
          {
            type: 'AssessmentCompleted',
            data: { assessment_id: assessmentId, completed_at: later, degraded: false },
          },
        ]);
    });

    test('evolve: completed, nothing pending, the recommendation and its items kept', () => {
      expect(stateAfter(assessmentDecider, completed)).toMatchObject({
        status: 'completed',
        completed_at: later,
        pending: [],
        degraded: false,
        recommendation: { recommendation_id: recommendationId, credential_ids: [cka, prometheus], degraded: false },
        evidence: { trace_ids: [traceA, traceB] },
      });
    });

    test('a second report writes nothing: recommended and charged once', () => {
      given(completed)
        .when(recommend({ cost_cents: 1 }))
        .then([]);
      given(decided(withEvidence, failCommand())).when(recommend()).then([]);
    });

    test('not before every essay is scored or failed', () => {
      const evidenceFirst = decided(submitted, evidence());
      given(evidenceFirst)
        .when(recommend())
        .thenThrows('ESSAY_SCORING_PENDING', {
          kind: 'conflict',
          details: { pending: ['essay_scoring', 'recommendations'] },
        });
      const failedEssay = decided(evidenceFirst, {
        type: 'ReportEssayScoringFailed',
        data: {
          assessment_id: assessmentId,
          question_id: design.question_id,
          revision: 1,
          reason: 'every scorer failed',
          attempts: 5,
          job_key: null,
        },
        metadata: meta(system, later),
      });
      expect(given(failedEssay).when(recommend()).thenEvents()).toHaveLength(2);
    });

    test('not before the evidence is recorded', () => {
      given(scored).when(recommend()).thenThrows('EVIDENCE_NOT_RECORDED', { kind: 'conflict' });
      given(inProgress).when(recommend()).thenThrows('ASSESSMENT_NOT_SUBMITTED');
      given([]).when(recommend()).thenThrows('ASSESSMENT_NOT_FOUND');
    });

    test('an assessment without essays needs only the evidence', () => {
      const events = given(decided(submittedNoEssay, evidence())).when(recommend()).thenEvents();
      expect(events.map((e) => e.type)).toEqual(['RecommendationsGenerated', 'AssessmentCompleted']);
    });

    test('every cited trace must be in the recorded evidence', () => {
      const stranger = evidenceTraceIdFor(assessmentId, 'elsewhere/0');
      given(withEvidence)
        .when(recommend({ items: [item({ source_trace_ids: [traceA, stranger] })] }))
        .thenThrows('UNKNOWN_TRACE_ID', {
          kind: 'validation',
          details: { credential_id: cka, trace_ids: [stranger] },
        });
      const noTraces = decided(scored, evidence({ traces: [] }));
      given(noTraces).when(recommend()).thenThrows('UNKNOWN_TRACE_ID');
      expect(
        given(noTraces)
          .when(recommend({ items: [item({ source_trace_ids: [] })] }))
          .thenEvents(),
      ).toHaveLength(2);
    });

    describe('completion is degraded when any fallback was used', () => {
      const completion = (history: AssessmentEvent[], command = recommend()) =>
        given(history).when(command).thenEvents()[1];

      test('no fallback: not degraded', () => {
        expect(completion(withEvidence)).toMatchObject({ data: { degraded: false } });
      });

      test('an essay scored offline', () => {
        const history = decided(submitted, essayScore(true), evidence());
        expect(completion(history)).toMatchObject({ type: 'AssessmentCompleted', data: { degraded: true } });
      });

      test('an essay whose scoring failed', () => {
        const history = decided(submitted, evidence(), {
          type: 'ReportEssayScoringFailed',
          data: {
            assessment_id: assessmentId,
            question_id: design.question_id,
            revision: 1,
            reason: 'every scorer failed',
            attempts: 5,
            job_key: null,
          },
          metadata: meta(system, later),
        });
        expect(completion(history)).toMatchObject({ data: { degraded: true } });
      });

      test('degraded evidence', () => {
        expect(completion(decided(scored, evidence({ degraded: true })))).toMatchObject({ data: { degraded: true } });
      });

      test('degraded recommendations (composed rationales)', () => {
        const events = given(withEvidence)
          .when(
            recommend({ degraded: true, provider: 'composed', model: 'composed', tokens_in: null, cost_cents: null }),
          )
          .thenEvents();
        expect(events).toMatchObject([
          { data: { degraded: true, provider: 'composed' } },
          { data: { degraded: true } },
        ]);
        expect(stateAfter(assessmentDecider, [...withEvidence, ...events])).toMatchObject({
          degraded: true,
          recommendation: { degraded: true },
        });
      });
    });

    test('only the processor may report', () => {
      given(withEvidence).when(recommend({}, admin)).thenThrows('SYSTEM_ACTOR_REQUIRED', { kind: 'forbidden' });
    });

    test('items are checked: at least one, distinct credentials, positions 1..n, confidence 0..1', () => {
      given(withEvidence)
        .when(recommend({ items: [] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'items' } });
      given(withEvidence)
        .when(recommend({ items: [item(), item({ position: 2 })] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { credential_id: cka } });
      given(withEvidence)
        .when(recommend({ items: [item(), { ...items[1]!, position: 3 }] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'items.position' } });
      given(withEvidence)
        .when(recommend({ items: [item({ confidence: 1.2 })] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'items[0].confidence' } });
      given(withEvidence)
        .when(recommend({ items: [item({ scores: { content: 2, skill_gap: null, collaborative: null } })] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'items[0].scores.content' } });
      given(withEvidence)
        .when(recommend({ items: [item({ rationale: ' ' })] }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'items[0].rationale' } });
      given(withEvidence)
        .when(recommend({ recommendation_id: 'reco-1' }))
        .thenThrows('INVALID_COMMAND', { details: { field: 'recommendation_id' } });
    });

    test('the profile, when given, has one need-vector value per skill; absent, it is recorded as null', () => {
      given(withEvidence)
        .when(recommend({ profile: { ...profile, vector: [0] } }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'profile.vector' } });
      given(withEvidence)
        .when(recommend({ profile: { ...profile, skills: [{ skill: 'kubernetes', proficiency: 1.5, gap: 0 }] } }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'profile.skills[0].proficiency' } });
      const [generated] = given(withEvidence)
        .when(recommend({ profile: undefined }))
        .thenEvents();
      expect(generated).toMatchObject({ type: 'RecommendationsGenerated', data: { profile: null } });
    });

    test('the summary needs a text or a list entry; metrics need a total latency', () => {
      given(withEvidence)
        .when(recommend({ summary: { text: '', strengths: [], gaps: [], next_steps: [] } }))
        .thenThrows('INVALID_RECOMMENDATIONS', { details: { field: 'summary' } });
      expect(
        given(withEvidence)
          .when(recommend({ summary: { text: '', strengths: [], gaps: [], next_steps: ['Take the CKA'] } }))
          .thenEvents(),
      ).toHaveLength(2);
      given(withEvidence)
        .when(
          recommend({
            metrics: { total_latency_ms: -1, gpt_latency_ms: null, rag_latency_ms: null, token_cost_cents: 0 },
          }),
        )
        .thenThrows('INVALID_COMMAND', { details: { field: 'metrics.total_latency_ms' } });
    });
  });

  describe('FailAssessment', () => {
    test('a processor fails a submitted assessment with a reason', () => {
      given(withEvidence)
        .when(failCommand())
        .then([
          {
            type: 'AssessmentFailed',
            data: { assessment_id: assessmentId, failed_at: later, reason: 'The role has no active credentials.' },
          },
        ]);
    });

    test('an admin may fail one in progress; the state keeps what was recorded', () => {
      const events = given(inProgress).when(failCommand(admin, 'Timed out')).thenEvents();
      expect(stateAfter(assessmentDecider, [...inProgress, ...events])).toMatchObject({
        status: 'failed',
        submitted_at: null,
        reason: 'Timed out',
      });
      const failedWithEvidence = decided(withEvidence, failCommand());
      expect(stateAfter(assessmentDecider, failedWithEvidence)).toMatchObject({
        status: 'failed',
        evidence: { trace_ids: [traceA, traceB] },
      });
    });

    test('the first failure wins: a second writes nothing', () => {
      given(decided(scored, failCommand())).when(failCommand(system, 'again')).then([]);
    });

    test('a completed assessment cannot fail; students and advisors may not fail one', () => {
      given(completed).when(failCommand()).thenThrows('ASSESSMENT_ALREADY_COMPLETED', { kind: 'conflict' });
      given(scored).when(failCommand(student)).thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden' });
      given(scored).when(failCommand(advisor)).thenThrows('ADMIN_ROLE_REQUIRED');
      given([]).when(failCommand()).thenThrows('ASSESSMENT_NOT_FOUND');
      given(scored)
        .when(failCommand(system, ' '))
        .thenThrows('INVALID_COMMAND', { details: { field: 'reason' } });
    });
  });

  describe('SubmitRecommendationFeedback', () => {
    test('the student who took the assessment gives feedback on an item: revision 1', () => {
      given(completed)
        .when(feedback())
        .then([
          {
            type: 'RecommendationFeedbackReceived',
            data: {
              assessment_id: assessmentId,
              recommendation_id: recommendationId,
              credential_id: cka,
              relevance_score: 4,
              acceptance_status: 'accepted',
              comments: 'Just what I need.',
              submitted_by: { id: student.id, role: 'student' },
              revision: 1,
              submitted_at: muchLater,
            },
          },
        ]);
    });

    test('feedback is revisable: revisions count per person and per item', () => {
      const first = decided(completed, feedback());
      expect(
        given(first)
          .when(feedback({ relevance_score: 2, acceptance_status: 'rejected' }))
          .thenEvents(),
      ).toMatchObject([{ data: { revision: 2, relevance_score: 2, acceptance_status: 'rejected' } }]);
      // Another item, another person: each starts at revision 1.
      expect(
        given(first)
          .when(feedback({ credential_id: prometheus }))
          .thenEvents(),
      ).toMatchObject([{ data: { revision: 1, credential_id: prometheus } }]);
      expect(given(first).when(feedback({}, advisor)).thenEvents()).toMatchObject([
        { data: { revision: 1, submitted_by: { id: advisor.id, role: 'advisor' } } },
      ]);
      const history = decided(first, feedback({ relevance_score: 3 }), feedback({ relevance_score: 5 }));
      expect(stateAfter(assessmentDecider, history)).toMatchObject({
        feedback: { [student.id]: { [cka]: { revision: 3, relevance_score: 5, acceptance_status: 'accepted' } } },
      });
    });

    test('the same feedback again (a double submit) writes nothing', () => {
      given(decided(completed, feedback())).when(feedback()).then([]);
    });

    test('acceptance defaults to pending; comments are optional', () => {
      expect(
        given(completed)
          .when(feedback({ acceptance_status: undefined, comments: null }))
          .thenEvents(),
      ).toMatchObject([{ data: { acceptance_status: 'pending', comments: null } }]);
      expect(
        given(completed)
          .when(feedback({ comments: '   ' }))
          .thenEvents(),
      ).toMatchObject([{ data: { comments: null } }]);
    });

    test('a student may only give feedback on their own assessment; advisors and admins on any', () => {
      given(completed).when(feedback({}, otherStudent)).thenThrows('NOT_ASSESSMENT_OWNER', { kind: 'forbidden' });
      given(completed).when(feedback({}, system)).thenThrows('NOT_ASSESSMENT_OWNER');
      expect(given(completed).when(feedback({}, admin)).thenEvents()).toHaveLength(1);
    });

    test('only on a completed assessment with recommendations', () => {
      given(withEvidence).when(feedback()).thenThrows('RECOMMENDATIONS_NOT_READY', { kind: 'conflict' });
      given(decided(withEvidence, failCommand()))
        .when(feedback())
        .thenThrows('RECOMMENDATIONS_NOT_READY', { details: { status: 'failed' } });
      given([]).when(feedback()).thenThrows('ASSESSMENT_NOT_FOUND');
      // Completed before recommendations existed (an old stream): nothing to give feedback on.
      const oldCompleted: AssessmentEvent = {
        type: 'AssessmentCompleted',
        data: { assessment_id: assessmentId, completed_at: later, degraded: false },
      };
      given([...submittedNoEssay, oldCompleted])
        .when(feedback())
        .thenThrows('RECOMMENDATION_NOT_FOUND', { kind: 'not_found' });
    });

    test('an unknown recommendation or credential is not found', () => {
      given(completed)
        .when(feedback({ recommendation_id: idFromKey('recommendation', 'other') }))
        .thenThrows('RECOMMENDATION_NOT_FOUND', { kind: 'not_found' });
      given(completed)
        .when(feedback({ credential_id: unknownCredential }))
        .thenThrows('RECOMMENDATION_ITEM_NOT_FOUND', {
          kind: 'not_found',
          details: { credential_id: unknownCredential },
        });
    });

    test('bounds: relevance 1..5 (whole), a known acceptance status, comments up to 2000 characters', () => {
      for (const relevance_score of [0, 6, 3.5, Number.NaN]) {
        given(completed)
          .when(feedback({ relevance_score }))
          .thenThrows('INVALID_FEEDBACK', { kind: 'validation', details: { field: 'relevance_score' } });
      }
      given(completed)
        .when(feedback({ acceptance_status: 'maybe' as never }))
        .thenThrows('INVALID_FEEDBACK', { details: { field: 'acceptance_status' } });
      given(completed)
        .when(feedback({ comments: 'x'.repeat(2001) }))
        .thenThrows('INVALID_FEEDBACK', { details: { field: 'comments' } });
      expect(
        given(completed)
          .when(feedback({ comments: 'x'.repeat(2000) }))
          .thenEvents(),
      ).toHaveLength(1);
    });
  });

  test('a state saved before recommendations existed still loads and moves on', () => {
    const state = stateAfter(assessmentDecider, scored);
    const old = JSON.parse(JSON.stringify(state)) as typeof state;
    expect(old).not.toHaveProperty('evidence');
    const events = assessmentDecider.decide(evidence(), old);
    const next = events.reduce(assessmentDecider.evolve, old);
    expect(assessmentDecider.decide(recommend(), next)).toHaveLength(2);
  });
});
