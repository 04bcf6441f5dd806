import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import type { EssayScored } from './assessment';
import { assessmentDecider } from './decide';
import type { OverrideEssayScore, RecordEssayScore, ReportEssayScoringFailed } from './essayScoring';
import {
  admin,
  advisor,
  assessmentId,
  design,
  meta,
  orchestrator,
  recordEssayScore,
  student,
  system,
  essayText,
  inProgressWithEssay,
  submittedWithEssay,
} from './testing/fixtures';

const given = DeciderSpecification.for(assessmentDecider);
const later = '2025-03-01T09:35:00.000Z';

const inProgress = inProgressWithEssay;
const submitted = submittedWithEssay;

function record(overrides: Partial<RecordEssayScore['data']> = {}, actor = system): RecordEssayScore {
  // The shared LLM score, with the usage and vector these specs check.
  return recordEssayScore(
    {
      tokens_in: 900,
      tokens_out: 120,
      cost_cents: 0.02,
      latency_ms: 800,
      job_key: 'essay:a:q:1',
      embedding: { provider: 'minilm-onnx', model: 'all-MiniLM-L6-v2', vector: [0.6, 0.8] },
      ...overrides,
    },
    actor,
    later,
  );
}

function fail(overrides: Partial<ReportEssayScoringFailed['data']> = {}): ReportEssayScoringFailed {
  return {
    type: 'ReportEssayScoringFailed',
    data: {
      assessment_id: assessmentId,
      question_id: design.question_id,
      revision: 1,
      reason: 'every scorer failed',
      attempts: 5,
      job_key: 'essay:a:q:1',
      ...overrides,
    },
    metadata: meta(system, later),
  };
}

function override(overrides: Partial<OverrideEssayScore['data']> = {}, actor = advisor): OverrideEssayScore {
  return {
    type: 'OverrideEssayScore',
    data: {
      assessment_id: assessmentId,
      question_id: design.question_id,
      score: 4,
      reason: 'The answer covers failover fully.',
      ...overrides,
    },
    metadata: meta(actor, later),
  };
}

const scored = assessmentDecider.decide(record(), stateAfter(assessmentDecider, submitted)) as EssayScored[];

describe('Essay scoring', () => {
  test('the submitted history used below is real: awaiting essay scoring', () => {
    expect(stateAfter(assessmentDecider, submitted)).toMatchObject({
      status: 'awaiting_async',
      pending: ['essay_scoring', 'recommendations'],
    });
  });

  describe('RecordEssayScore', () => {
    test('when submitted, the first report becomes EssayScored with the question version and weight', () => {
      given(submitted)
        .when(record())
        .then([
          {
            type: 'EssayScored',
            data: {
              assessment_id: assessmentId,
              question_id: design.question_id,
              question_version: design.version,
              revision: 1,
              score: 3,
              max_score: design.weight,
              criteria: record().data.criteria,
              explanation: 'Names redundancy and failover.',
              model: 'gpt-4o-mini',
              prompt_version: 'essay-v1',
              degraded: false,
              latency_ms: 800,
              cost_cents: 0.02,
              provider: 'openai',
              job_key: 'essay:a:q:1',
              flags: [],
              needs_review: false,
              tokens_in: 900,
              tokens_out: 120,
              embedding: { provider: 'minilm-onnx', model: 'all-MiniLM-L6-v2', vector: [0.6, 0.8] },
            },
          },
        ]);
    });

    test('a second report for the same essay (a retried job) writes nothing: scored and charged once', () => {
      given([...submitted, ...scored])
        .when(record({ score: 1, cost_cents: 0.05 }))
        .then([]);
    });

    test('a report after the essay failed writes nothing', () => {
      const failed = assessmentDecider.decide(fail(), stateAfter(assessmentDecider, submitted));
      given([...submitted, ...failed])
        .when(record())
        .then([]);
    });

    test('only the system (the processor) may report', () => {
      given(submitted).when(record({}, admin)).thenThrows('SYSTEM_ACTOR_REQUIRED', { kind: 'forbidden' });
      given(submitted).when(record({}, student)).thenThrows('SYSTEM_ACTOR_REQUIRED');
    });

    test('a score outside 0..weight is refused', () => {
      given(submitted)
        .when(record({ score: 4.01 }))
        .thenThrows('INVALID_ESSAY_SCORE', { details: { max_score: 4 } });
      given(submitted)
        .when(record({ score: -1 }))
        .thenThrows('INVALID_ESSAY_SCORE');
      given(submitted)
        .when(record({ score: Number.NaN }))
        .thenThrows('INVALID_ESSAY_SCORE');
    });

    test('a report about another revision than the submitted answer is refused', () => {
      given(submitted)
        .when(record({ revision: 2 }))
        .thenThrows('STALE_ESSAY_REVISION', { details: { revision: 1 } });
    });

    test('before submission it is refused; unknown or non-essay questions are refused', () => {
      given(inProgress).when(record()).thenThrows('ASSESSMENT_NOT_SUBMITTED', { kind: 'conflict' });
      given([]).when(record()).thenThrows('ASSESSMENT_NOT_FOUND');
      given(submitted)
        .when(record({ question_id: orchestrator.question_id }))
        .thenThrows('NOT_AN_ESSAY_QUESTION');
      given(submitted)
        .when(record({ question_id: '00000000-0000-4000-8000-000000000000' }))
        .thenThrows('UNKNOWN_QUESTION');
    });

    test('evolve: the last essay scored clears essay_scoring; a degraded score marks the assessment', () => {
      const degraded = assessmentDecider.decide(
        record({ degraded: true, provider: 'offline' }),
        stateAfter(assessmentDecider, submitted),
      );
      expect(stateAfter(assessmentDecider, [...submitted, ...degraded])).toMatchObject({
        pending: ['recommendations'],
        degraded: true,
        essay_scores: { [design.question_id]: { score: 3, provider: 'offline' } },
      });
      expect(stateAfter(assessmentDecider, [...submitted, ...scored])).toMatchObject({ degraded: false });
    });
  });

  describe('ReportEssayScoringFailed', () => {
    test('records the failure, and the essay no longer holds up the assessment', () => {
      const [event] = given(submitted).when(fail()).thenEvents();
      expect(event).toEqual({
        type: 'EssayScoringFailed',
        data: {
          assessment_id: assessmentId,
          question_id: design.question_id,
          question_version: design.version,
          revision: 1,
          reason: 'every scorer failed',
          attempts: 5,
          job_key: 'essay:a:q:1',
          failed_at: later,
        },
      });
      expect(stateAfter(assessmentDecider, [...submitted, event!])).toMatchObject({
        pending: ['recommendations'],
        degraded: true,
      });
    });

    test('after a score it writes nothing', () => {
      given([...submitted, ...scored])
        .when(fail())
        .then([]);
    });
  });

  describe('OverrideEssayScore', () => {
    test('an advisor overrides a score with a reason; the essay text travels with it as an example', () => {
      given([...submitted, ...scored])
        .when(override())
        .then([
          {
            type: 'EssayScoreOverridden',
            data: {
              assessment_id: assessmentId,
              question_id: design.question_id,
              question_version: design.version,
              revision: 1,
              previous_score: 3,
              score: 4,
              max_score: 4,
              reason: 'The answer covers failover fully.',
              answer_text: essayText,
              overridden_at: later,
            },
          },
        ]);
    });

    test('an admin may override a failed essay too; the state then holds the human score', () => {
      const failed = assessmentDecider.decide(fail(), stateAfter(assessmentDecider, submitted));
      const events = given([...submitted, ...failed])
        .when(override({ score: 2 }, admin))
        .thenEvents();
      expect(events[0]).toMatchObject({ data: { previous_score: null, score: 2 } });
      const state = stateAfter(assessmentDecider, [...submitted, ...failed, ...events]);
      expect(state).toMatchObject({
        essay_scores: { [design.question_id]: { score: 2, provider: 'advisor', overridden: true } },
        essay_failures: {},
      });
    });

    test('students may not override, not even their own', () => {
      given([...submitted, ...scored])
        .when(override({}, student))
        .thenThrows('ESSAY_SCORE_OVERRIDE_FORBIDDEN', { kind: 'forbidden' });
    });

    test('a reason is required, and the score must fit the weight', () => {
      given([...submitted, ...scored])
        .when(override({ reason: '   ' }))
        .thenThrows('INVALID_COMMAND', { details: { field: 'reason' } });
      given([...submitted, ...scored])
        .when(override({ score: 5 }))
        .thenThrows('INVALID_ESSAY_SCORE');
    });

    test('an essay not scored yet cannot be overridden', () => {
      given(submitted).when(override()).thenThrows('ESSAY_NOT_SCORED_YET', { kind: 'conflict' });
      given(inProgress).when(override()).thenThrows('ASSESSMENT_NOT_SUBMITTED');
    });
  });
});
