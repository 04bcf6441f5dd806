import type { PoolClient } from 'pg';
import type {
  AssessmentCompleted,
  AssessmentEvent,
  AssessmentFailed,
  EvidenceRetrieved,
  ProcessingMetrics,
  RecommendationFeedbackReceived,
  RecommendationsGenerated,
} from '../../domain/assessment/assessment';
import { recommendationIdFor } from '../../domain/assessment/recommendations';
import { idFromKey, isUuid } from '../../domain/shared/ids';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Assessment events → the recommendation read models (migrations/0009_recommendations.sql):
 *
 * - EvidenceRetrieved → a `recommendations` row, status `pending`, and its `rag_traces`;
 * - RecommendationsGenerated → `ready`, with its `recommendation_items` and one
 *   `metric_snapshots` row per measured metric;
 * - AssessmentCompleted → the assessment's overall degraded flag and completion instant;
 * - AssessmentFailed → `failed` with the reason (a row of its own when the failure came before
 *   any evidence, so that the result can say why);
 * - RecommendationFeedbackReceived → one `recommendation_feedback` row per (recommendation,
 *   credential, submitter) holding that person's latest revision.
 *
 * Ids are derived (recommendationIdFor(assessment), item, trace, metric, feedback keys), so a
 * rebuild from offset 0 writes the same rows. `recommendations.version` is the last event
 * applied: each event claims its version first (`WHERE version < event version`), and one that
 * cannot (a replay) changes nothing; child rows are inserted `ON CONFLICT DO NOTHING` and feedback
 * only replaces an older revision. Child rows hang off recommendationIdFor(assessment), the row's
 * own id, whatever id an event spells, so a report can never wedge the projection on a foreign key.
 */
export const RECOMMENDATIONS_PROJECTION = 'recommendations';

/** The metrics of ProcessingMetrics, each a `metric_snapshots.metric_type` (latencies end in `_ms`). */
export const METRIC_TYPES = ['total_latency_ms', 'gpt_latency_ms', 'rag_latency_ms', 'token_cost_cents'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export const recommendationItemIdOf = (recommendationId: string, credentialId: string): string =>
  idFromKey('recommendation-item', `${recommendationId}/${credentialId}`);

export const metricSnapshotIdOf = (assessmentId: string, metric: MetricType): string =>
  idFromKey('metric-snapshot', `${assessmentId}/${metric}`);

export const recommendationFeedbackIdOf = (recommendationId: string, credentialId: string, submitterId: string) =>
  idFromKey('recommendation-feedback', `${recommendationId}/${credentialId}/${submitterId}`);

/** `submitted_by` is a UUID column: a user's id is one; any other actor id gets a derived one. */
const submitterIdOf = (actorId: string): string => (isUuid(actorId) ? actorId : idFromKey('actor', actorId));

type Stored<E extends AssessmentEvent> = StoredOf<E>;

export const recommendationsProjection: Projection = {
  name: RECOMMENDATIONS_PROJECTION,
  topics: (topics) => [topics.assessment.events],
  tables: ['recommendations', 'recommendation_items', 'rag_traces', 'recommendation_feedback', 'metric_snapshots'],
  async apply(client, record) {
    const event = record as Stored<AssessmentEvent>;
    switch (event.type) {
      case 'EvidenceRetrieved':
        return evidenceRetrieved(client, event);
      case 'RecommendationsGenerated':
        return generated(client, event);
      case 'AssessmentCompleted':
        return completed(client, event);
      case 'AssessmentFailed':
        return failed(client, event);
      case 'RecommendationFeedbackReceived':
        return feedbackReceived(client, event);
      default:
        return;
    }
  },
};

async function evidenceRetrieved(client: PoolClient, event: Stored<EvidenceRetrieved>): Promise<void> {
  const d = event.data;
  const id = recommendationIdFor(event.aggregate_id);
  const { rowCount } = await client.query(
    `INSERT INTO recommendations (id, assessment_id, status, degraded, evidence_degraded, query_summary,
       evidence_latency_ms, evidence_job_key, retrieved_at, version, created_at, updated_at)
     VALUES ($1, $2, 'pending', $3, $3, $4, $5, $6, $7, $8, $7, $9)
     ON CONFLICT (id) DO NOTHING`,
    [
      id,
      event.aggregate_id,
      d.degraded,
      d.query_summary,
      d.latency_ms,
      d.job_key,
      d.retrieved_at,
      event.version,
      event.occurred_at,
    ],
  );
  if (rowCount === 0 || d.traces.length === 0) return;
  await client.query(
    `INSERT INTO rag_traces (id, recommendation_id, assessment_id, position, source_uri, source_id, source_type, snippet,
       start_offset, end_offset, similarity, embedding_provider, embedding_model, created_at)
     SELECT t.trace_id, $1, $2, t.position, t.source_uri, t.source_id, t.source_type, t.snippet, t.start, t."end",
            t.similarity, t.embedding_provider, t.embedding_model, $3
     FROM jsonb_to_recordset($4::jsonb) AS t(trace_id UUID, position INTEGER, source_uri TEXT, source_id TEXT,
       source_type VARCHAR(32), snippet TEXT, start INTEGER, "end" INTEGER, similarity NUMERIC,
       embedding_provider VARCHAR(32), embedding_model VARCHAR(64))
     ON CONFLICT (id) DO NOTHING`,
    [id, event.aggregate_id, d.retrieved_at, JSON.stringify(d.traces.map((t, i) => ({ ...t, position: i + 1 })))],
  );
}

async function generated(client: PoolClient, event: Stored<RecommendationsGenerated>): Promise<void> {
  const d = event.data;
  const id = recommendationIdFor(event.aggregate_id);
  const claimed = await claim(
    client,
    event,
    `status = 'ready', summary = $4, strengths = $5, gaps = $6, next_steps = $7, recommendation_degraded = $8,
     degraded = degraded OR $8, provider = $9, model = $10, prompt_version = $11, tokens_in = $12, tokens_out = $13,
     cost_cents = $14, metrics = $15, profile = $16, role_id = $17, job_key = $18, generated_at = $19`,
    [
      d.summary.text,
      d.summary.strengths,
      d.summary.gaps,
      d.summary.next_steps,
      d.degraded,
      d.provider,
      d.model,
      d.prompt_version,
      d.tokens_in,
      d.tokens_out,
      d.cost_cents,
      JSON.stringify(d.metrics),
      d.profile ? JSON.stringify(d.profile) : null,
      d.profile?.role_id ?? null,
      d.job_key,
      d.generated_at,
    ],
  );
  if (!claimed) return;
  await client.query(
    `INSERT INTO recommendation_items (id, recommendation_id, credential_id, title, confidence, rationale,
       source_trace_ids, position, score_content, score_skill_gap, score_collaborative, created_at)
     SELECT i.id, $1, i.credential_id, i.title, i.confidence, i.rationale,
            ARRAY(SELECT jsonb_array_elements_text(i.source_trace_ids))::uuid[], i.position, i.content, i.skill_gap,
            i.collaborative, $2
     FROM jsonb_to_recordset($3::jsonb) AS i(id UUID, credential_id UUID, title TEXT, confidence NUMERIC,
       rationale TEXT, source_trace_ids JSONB, position INTEGER, content NUMERIC, skill_gap NUMERIC, collaborative NUMERIC)
     ON CONFLICT DO NOTHING`,
    [
      id,
      d.generated_at,
      JSON.stringify(
        d.items.map((item) => ({
          id: recommendationItemIdOf(id, item.credential_id),
          credential_id: item.credential_id,
          title: item.title,
          confidence: item.confidence,
          rationale: item.rationale,
          source_trace_ids: item.source_trace_ids,
          position: item.position,
          content: item.scores.content,
          skill_gap: item.scores.skill_gap,
          collaborative: item.scores.collaborative,
        })),
      ),
    ],
  );
  const metrics = METRIC_TYPES.flatMap((metric) => {
    const value = metricValue(d.metrics, metric);
    return value === null ? [] : [{ id: metricSnapshotIdOf(event.aggregate_id, metric), metric, value }];
  });
  await client.query(
    `INSERT INTO metric_snapshots (id, assessment_id, metric_type, value, context, captured_at)
     SELECT m.id, $1, m.metric, m.value, $2, $3
     FROM jsonb_to_recordset($4::jsonb) AS m(id UUID, metric VARCHAR(32), value NUMERIC)
     ON CONFLICT DO NOTHING`,
    [
      event.aggregate_id,
      JSON.stringify({ recommendation_id: id, provider: d.provider, model: d.model, degraded: d.degraded }),
      d.generated_at,
      JSON.stringify(metrics),
    ],
  );
}

function metricValue(metrics: ProcessingMetrics, metric: MetricType): number | null {
  const value = metrics[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

async function completed(client: PoolClient, event: Stored<AssessmentCompleted>): Promise<void> {
  await claim(client, event, 'degraded = $4, completed_at = $5', [event.data.degraded, event.data.completed_at]);
}

async function failed(client: PoolClient, event: Stored<AssessmentFailed>): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO recommendations (id, assessment_id, status, failed_at, failed_reason, version, created_at, updated_at)
     VALUES ($1, $2, 'failed', $3, $4, $5, $3, $6)
     ON CONFLICT (id) DO UPDATE SET status = 'failed', failed_at = EXCLUDED.failed_at,
       failed_reason = EXCLUDED.failed_reason, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
     WHERE recommendations.version < EXCLUDED.version`,
    [
      recommendationIdFor(event.aggregate_id),
      event.aggregate_id,
      d.failed_at,
      d.reason,
      event.version,
      event.occurred_at,
    ],
  );
}

async function feedbackReceived(client: PoolClient, event: Stored<RecommendationFeedbackReceived>): Promise<void> {
  const d = event.data;
  const id = recommendationIdFor(event.aggregate_id);
  if (!(await claim(client, event))) return;
  await client.query(
    `INSERT INTO recommendation_feedback (id, recommendation_id, assessment_id, credential_id, submitted_by,
       submitted_by_role, relevance_score, acceptance_status, comments, revision, submitted_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
     ON CONFLICT (recommendation_id, credential_id, submitted_by) DO UPDATE SET
       submitted_by_role = EXCLUDED.submitted_by_role, relevance_score = EXCLUDED.relevance_score,
       acceptance_status = EXCLUDED.acceptance_status, comments = EXCLUDED.comments, revision = EXCLUDED.revision,
       submitted_at = EXCLUDED.submitted_at
     WHERE recommendation_feedback.revision < EXCLUDED.revision`,
    [
      recommendationFeedbackIdOf(id, d.credential_id, submitterIdOf(d.submitted_by.id)),
      id,
      event.aggregate_id,
      d.credential_id,
      submitterIdOf(d.submitted_by.id),
      d.submitted_by.role,
      d.relevance_score,
      d.acceptance_status,
      d.comments,
      d.revision,
      d.submitted_at,
    ],
  );
}

/**
 * Records that the assessment's recommendation has seen `event` (version, updated_at), with any
 * further `SET` assignments (parameters from $4). False when the event was applied before or
 * there is no row (no evidence was ever recorded): the caller then writes nothing.
 */
async function claim(
  client: PoolClient,
  event: Stored<AssessmentEvent>,
  assignments?: string,
  values: unknown[] = [],
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE recommendations SET version = $2, updated_at = $3${assignments ? `, ${assignments}` : ''}
     WHERE id = $1 AND version < $2`,
    [recommendationIdFor(event.aggregate_id), event.version, event.occurred_at, ...values],
  );
  return rowCount === 1;
}
