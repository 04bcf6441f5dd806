import type { AssessmentEvent } from '../../../domain/assessment/assessment';
import type { EssayRubric } from '../../../domain/assessment/rubric';
import type { StoredOf } from '../../messaging/envelopes';
import type { JobIntake } from '../runtime/jobs';
import type { ProcessorDefinition, ProcessorReport } from '../runtime/processor';
import { describeError } from '../runtime/processor';
import type { EssayScorer } from './essayScorer';

export const ESSAY_SCORING = 'essay_scoring';

/** What an essay-scoring job carries: the question as snapshotted, then the submitted answer. */
export interface EssayJobPayload {
  assessment_id: string;
  question_id: string;
  question_version: string;
  prompt: string;
  rubric: EssayRubric;
  weight: number;
  /** Set by the answer's ResponseRecorded (the latest revision wins). */
  answer?: string;
  revision?: number;
}

/** One job per essay question of an assessment; the revision scored is the submitted one. */
export const essayJobKey = (assessmentId: string, questionId: string): string =>
  `${ESSAY_SCORING}/${assessmentId}/${questionId}`;

/**
 * Essay scoring: an assessment's essay questions become waiting jobs when it starts, take the
 * latest answer as it is recorded, and are queued when it is submitted (unanswered ones are
 * cancelled). Each job scores its essay (LLM, else offline) and reports RecordEssayScore; a job
 * out of attempts reports ReportEssayScoringFailed, so no essay stays unscored.
 */
export function essayScoringProcessor(scorer: EssayScorer): ProcessorDefinition<EssayJobPayload> {
  return {
    name: ESSAY_SCORING,
    topics: (topics) => [topics.assessment.events],
    intake: (event, jobs) => intake(event as StoredOf<AssessmentEvent>, jobs),
    async run(job, signal): Promise<ProcessorReport> {
      const p = job.payload;
      const { result, embedding, fallbackReason } = await scorer.score(
        { question_id: p.question_id, prompt: p.prompt, rubric: p.rubric, max_score: p.weight, text: p.answer ?? '' },
        signal,
      );
      const rationale = fallbackReason ? `${result.rationale} (Scored offline: ${fallbackReason}.)` : result.rationale;
      return {
        context: 'assessment',
        type: 'RecordEssayScore',
        aggregate_id: p.assessment_id,
        data: {
          assessment_id: p.assessment_id,
          question_id: p.question_id,
          revision: p.revision ?? 1,
          score: Math.min(p.weight, Math.max(0, result.score)),
          criteria: result.criteria.map((c) => ({ ...c })),
          explanation: rationale.slice(0, 4000),
          provider: result.provider,
          model: result.model.slice(0, 64),
          prompt_version: result.prompt_version.slice(0, 32),
          degraded: result.degraded,
          flags: result.flags,
          needs_review: result.needs_review,
          tokens_in: result.tokens_in,
          tokens_out: result.tokens_out,
          cost_cents: result.cost_cents,
          latency_ms: Math.round(result.latency_ms),
          job_key: job.key,
          embedding,
        },
      };
    },
    giveUp(job, error): ProcessorReport {
      const p = job.payload;
      return {
        context: 'assessment',
        type: 'ReportEssayScoringFailed',
        aggregate_id: p.assessment_id,
        data: {
          assessment_id: p.assessment_id,
          question_id: p.question_id,
          revision: p.revision ?? 1,
          reason: `Scoring failed after ${job.attempts} attempt(s): ${describeError(error).message}`,
          attempts: job.attempts,
          job_key: job.key,
        },
      };
    },
  };
}

async function intake(event: StoredOf<AssessmentEvent>, jobs: JobIntake<EssayJobPayload>): Promise<void> {
  switch (event.type) {
    case 'AssessmentStarted': {
      const d = event.data;
      for (const q of d.questions) {
        if (q.type !== 'essay' || q.rubric.scoring !== 'essay') continue;
        await jobs.create({
          key: essayJobKey(d.assessment_id, q.question_id),
          assessment_id: d.assessment_id,
          status: 'waiting',
          payload: {
            assessment_id: d.assessment_id,
            question_id: q.question_id,
            question_version: q.version,
            prompt: q.prompt,
            rubric: q.rubric,
            weight: q.weight,
          },
        });
      }
      return;
    }
    case 'ResponseRecorded': {
      const d = event.data;
      // Only essay questions have a job; for the others this changes nothing.
      if (typeof d.answer !== 'string') return;
      await jobs.update(essayJobKey(d.assessment_id, d.question_id), { answer: d.answer, revision: d.revision });
      return;
    }
    case 'AssessmentSubmitted': {
      for (const job of await jobs.waiting(event.data.assessment_id)) {
        if (job.payload.answer === undefined) await jobs.cancel(job.key, 'not answered');
        else await jobs.queue(job.key);
      }
      return;
    }
    case 'AssessmentFailed': {
      for (const job of await jobs.waiting(event.data.assessment_id)) await jobs.cancel(job.key, 'assessment failed');
      return;
    }
    default:
      return;
  }
}
