import type { AssessmentEvent } from '../../../domain/assessment/assessment';
import type { Pool } from 'pg';
import { findRole } from '../../../projections/catalog/queries';
import type { StoredOf } from '../../messaging/envelopes';
import type { ProcessorDefinition, ProcessorReport } from '../runtime/processor';
import { describeError } from '../runtime/processor';
import { RECOMMENDATIONS, takeIn, type RecommendationJobPayload } from './assessmentFacts';
import type { EvidenceRetriever } from './evidenceRetriever';
import type { Recommender } from './recommender';

/**
 * Recommendations, in two jobs per assessment (see assessmentFacts.ts for when each is due):
 *
 * - `…/evidence`: hybrid retrieval of evidence for the student's needs → RecordEvidence; out of
 *   attempts (e.g. Elasticsearch down for good), it records no evidence, degraded, so the
 *   ranking still happens;
 * - `…/rank`: the ranking, rationales and summary → RecordRecommendations, which completes the
 *   assessment; out of attempts, or impossible (no active credential), FailAssessment with
 *   the reason.
 */
export function recommendationProcessor(deps: {
  pool: Pool;
  retriever: EvidenceRetriever;
  recommender: Recommender;
}): ProcessorDefinition<RecommendationJobPayload> {
  return {
    name: RECOMMENDATIONS,
    topics: (topics) => [topics.assessment.events],
    intake: (event, jobs) => takeIn(event as StoredOf<AssessmentEvent>, jobs),
    async run(job, signal): Promise<ProcessorReport> {
      const p = job.payload;
      const skills = (await findRole(deps.pool, p.role_id))?.skills_profile ?? [];
      if (p.stage === 'evidence') {
        const data = await deps.retriever.retrieve(p, skills, job.key, signal);
        return { context: 'assessment', type: 'RecordEvidence', aggregate_id: p.assessment_id, data };
      }
      const data = await deps.recommender.recommend(p, p.evidence, skills, job.key, signal);
      return { context: 'assessment', type: 'RecordRecommendations', aggregate_id: p.assessment_id, data };
    },
    giveUp(job, error): ProcessorReport {
      const p = job.payload;
      const why = describeError(error).message;
      if (p.stage === 'evidence') {
        return {
          context: 'assessment',
          type: 'RecordEvidence',
          aggregate_id: p.assessment_id,
          data: {
            assessment_id: p.assessment_id,
            traces: [],
            query_summary: `No evidence could be retrieved after ${job.attempts} attempt(s): ${why}`.slice(0, 2000),
            latency_ms: null,
            degraded: true,
            job_key: job.key,
          },
        };
      }
      return {
        context: 'assessment',
        type: 'FailAssessment',
        aggregate_id: p.assessment_id,
        data: {
          assessment_id: p.assessment_id,
          reason: `Recommendations could not be made: ${why}`.slice(0, 2000),
        },
      };
    },
  };
}
