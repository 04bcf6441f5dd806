import type { AssessmentEvent, EvidenceTrace, QuestionSnapshot } from '../../../domain/assessment/assessment';
import type { JsonValue } from '../../../domain/shared/json';
import type { StoredOf } from '../../messaging/envelopes';
import type { JobIntake } from '../runtime/jobs';

/**
 * What the recommendation jobs know of an assessment, folded from its own events as they are
 * taken in (the questions as snapshotted, the latest answers, rule and essay scores), so that a
 * job never reads read models that may lag behind the event that queued it.
 */
export interface EssayOutcome {
  score: number;
  max_score: number;
  criteria: { criterion_id: string; band_score: number; max_band_score: number }[];
  provider: string;
  degraded: boolean;
  latency_ms: number | null;
  cost_cents: number | null;
}

export interface AssessmentFacts {
  assessment_id: string;
  user_id: string;
  role_id: string;
  role_name: string;
  questions: Omit<QuestionSnapshot, 'version' | 'required'>[];
  /** Latest answer per question id. */
  answers: Record<string, { answer: JsonValue; revision: number }>;
  rule_scores: Record<string, { score: number; max_score: number; revision: number }>;
  essay_scores: Record<string, EssayOutcome>;
  /** Essays whose scoring gave up, per question id. */
  essay_failures: Record<string, { reason: string }>;
  submitted_at: string | null;
}

/** The evidence stage's outcome, carried to the ranking stage. */
export interface RecordedEvidence {
  traces: EvidenceTrace[];
  latency_ms: number | null;
  degraded: boolean;
  query_summary: string;
}

export type RecommendationJobPayload =
  (AssessmentFacts & { stage: 'evidence' }) | (AssessmentFacts & { stage: 'rank'; evidence: RecordedEvidence });

export const RECOMMENDATIONS = 'recommendations';
export const evidenceJobKey = (assessmentId: string): string => `${RECOMMENDATIONS}/${assessmentId}/evidence`;
export const rankJobKey = (assessmentId: string): string => `${RECOMMENDATIONS}/${assessmentId}/rank`;

/** Answered essays still without a score or a recorded failure. */
export function essaysPending(facts: AssessmentFacts): string[] {
  return facts.questions
    .filter(
      (q) =>
        q.type === 'essay' &&
        facts.answers[q.question_id] !== undefined &&
        facts.essay_scores[q.question_id] === undefined &&
        facts.essay_failures[q.question_id] === undefined,
    )
    .map((q) => q.question_id);
}

/** Evidence can be retrieved once the assessment is submitted and every answered essay is scored or failed. */
export function readyForEvidence(facts: AssessmentFacts): boolean {
  return facts.submitted_at !== null && essaysPending(facts).length === 0;
}

function criteriaOf(value: JsonValue): EssayOutcome['criteria'] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((c) => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) return [];
    const { criterion_id, band_score, max_band_score } = c;
    return typeof criterion_id === 'string' && typeof band_score === 'number' && typeof max_band_score === 'number'
      ? [{ criterion_id, band_score, max_band_score }]
      : [];
  });
}

/**
 * The intake of the recommendation processor: the evidence job is born waiting with the
 * assessment, learns its answers and scores, and is queued when the evidence can be retrieved;
 * the ranking job is born queued from the evidence job's facts when the evidence is recorded.
 * Both are cancelled when the assessment ends some other way.
 */
export async function takeIn(
  event: StoredOf<AssessmentEvent>,
  jobs: JobIntake<RecommendationJobPayload>,
): Promise<void> {
  const key = evidenceJobKey(event.data.assessment_id);
  const queueIfReady = async () => {
    const job = await jobs.find(key);
    if (job?.status === 'waiting' && readyForEvidence(job.payload)) await jobs.queue(key);
  };
  switch (event.type) {
    case 'AssessmentStarted': {
      const d = event.data;
      await jobs.create({
        key,
        assessment_id: d.assessment_id,
        status: 'waiting',
        payload: {
          stage: 'evidence',
          assessment_id: d.assessment_id,
          user_id: d.user_id,
          role_id: d.role_id,
          role_name: d.role_name,
          questions: d.questions.map(({ question_id, type, prompt, choices, rubric, weight }) => ({
            question_id,
            type,
            prompt,
            choices,
            rubric,
            weight,
          })),
          answers: {},
          rule_scores: {},
          essay_scores: {},
          essay_failures: {},
          submitted_at: null,
        },
      });
      return;
    }
    case 'ResponseRecorded': {
      const d = event.data;
      await jobs.set(key, ['answers', d.question_id], { answer: d.answer, revision: d.revision });
      return;
    }
    case 'ResponseRuleScored': {
      const d = event.data;
      await jobs.set(key, ['rule_scores', d.question_id], {
        score: d.score,
        max_score: d.max_score,
        revision: d.revision,
      });
      return;
    }
    case 'AssessmentSubmitted':
      await jobs.set(key, ['submitted_at'], event.data.submitted_at);
      await queueIfReady();
      return;
    case 'EssayScored': {
      const d = event.data;
      const outcome: EssayOutcome = {
        score: d.score,
        max_score: d.max_score,
        criteria: criteriaOf(d.criteria),
        provider: d.provider,
        degraded: d.degraded,
        latency_ms: d.latency_ms,
        cost_cents: d.cost_cents,
      };
      await jobs.set(key, ['essay_scores', d.question_id], outcome);
      await queueIfReady();
      return;
    }
    case 'EssayScoringFailed':
      await jobs.set(key, ['essay_failures', event.data.question_id], { reason: event.data.reason });
      await queueIfReady();
      return;
    case 'EvidenceRetrieved': {
      const d = event.data;
      const evidenceJob = await jobs.find(key);
      // Evidence recorded by someone else for an assessment this processor never saw start:
      // nothing to rank from.
      if (!evidenceJob) return;
      const { stage: _stage, ...facts } = evidenceJob.payload;
      await jobs.create({
        key: rankJobKey(d.assessment_id),
        assessment_id: d.assessment_id,
        status: 'queued',
        payload: {
          ...facts,
          stage: 'rank',
          evidence: {
            traces: d.traces,
            latency_ms: d.latency_ms,
            degraded: d.degraded,
            query_summary: d.query_summary,
          },
        },
      });
      return;
    }
    case 'AssessmentCompleted':
    case 'AssessmentFailed': {
      const reason = event.type === 'AssessmentCompleted' ? 'assessment completed' : 'assessment failed';
      await jobs.cancel(key, reason);
      await jobs.cancel(rankJobKey(event.data.assessment_id), reason);
      return;
    }
    default:
      return;
  }
}
