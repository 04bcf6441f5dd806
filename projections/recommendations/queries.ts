import type { Pool } from 'pg';
import type {
  AcceptanceStatus,
  ProcessingMetrics,
  RecommendationScores,
  RecommendationSummary,
  StudentSkillProfile,
} from '../../domain/assessment/assessment';
import { isUuid } from '../../domain/shared/ids';

// Queries over the recommendation read models (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export type RecommendationStatus = 'pending' | 'ready' | 'failed';

export interface RecommendationView {
  recommendation_id: string;
  assessment_id: string;
  /** From the student's profile (null when the ranking recorded none, or not ranked yet). */
  role_id: string | null;
  status: RecommendationStatus;
  summary: RecommendationSummary;
  /** The assessment's overall flag once completed; until then the evidence's. */
  degraded: boolean;
  evidence_degraded: boolean;
  recommendation_degraded: boolean;
  query_summary: string | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_cents: number | null;
  metrics: ProcessingMetrics | null;
  profile: StudentSkillProfile | null;
  retrieved_at: string | null;
  generated_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  failed_reason: string | null;
  /** The assessment version (event) that last wrote the row. */
  version: number;
}

export interface RecommendationItemView {
  item_id: string;
  credential_id: string;
  title: string;
  confidence: number;
  rationale: string;
  source_trace_ids: string[];
  position: number;
  scores: RecommendationScores;
}

export interface EvidenceTraceView {
  trace_id: string;
  /** 1 for the first trace of the evidence, then 2, 3, … */
  position: number;
  source_uri: string;
  source_id: string | null;
  source_type: string | null;
  snippet: string;
  start: number | null;
  end: number | null;
  similarity: number;
  embedding_provider: string | null;
  embedding_model: string | null;
}

export interface RecommendationResultView {
  recommendation: RecommendationView;
  /** In position order. */
  items: RecommendationItemView[];
  /** In evidence order. */
  traces: EvidenceTraceView[];
}

export interface FeedbackView {
  feedback_id: string;
  recommendation_id: string;
  assessment_id: string;
  credential_id: string;
  submitted_by: { id: string; role: string };
  relevance_score: number;
  acceptance_status: AcceptanceStatus;
  comments: string | null;
  /** 1 for the person's first feedback on the item, then 2, 3, … */
  revision: number;
  /** When this revision was given. */
  submitted_at: string;
  /** When the first one was. */
  first_submitted_at: string;
}

interface RecommendationRow {
  id: string;
  assessment_id: string;
  role_id: string | null;
  status: RecommendationStatus;
  summary: string | null;
  strengths: string[];
  gaps: string[];
  next_steps: string[];
  degraded: boolean;
  evidence_degraded: boolean;
  recommendation_degraded: boolean;
  query_summary: string | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_cents: string | null;
  metrics: ProcessingMetrics | null;
  profile: StudentSkillProfile | null;
  retrieved_at: Date | null;
  generated_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  failed_reason: string | null;
  version: string;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));
const iso = (v: Date | null): string | null => (v === null ? null : v.toISOString());

const RECOMMENDATION_COLUMNS = `id, assessment_id, role_id, status, summary, strengths, gaps, next_steps, degraded,
  evidence_degraded, recommendation_degraded, query_summary, provider, model, prompt_version, tokens_in, tokens_out,
  cost_cents, metrics, profile, retrieved_at, generated_at, completed_at, failed_at, failed_reason, version`;

function recommendationOfRow(row: RecommendationRow): RecommendationView {
  return {
    recommendation_id: row.id,
    assessment_id: row.assessment_id,
    role_id: row.role_id,
    status: row.status,
    summary: { text: row.summary ?? '', strengths: row.strengths, gaps: row.gaps, next_steps: row.next_steps },
    degraded: row.degraded,
    evidence_degraded: row.evidence_degraded,
    recommendation_degraded: row.recommendation_degraded,
    query_summary: row.query_summary,
    provider: row.provider,
    model: row.model,
    prompt_version: row.prompt_version,
    tokens_in: row.tokens_in,
    tokens_out: row.tokens_out,
    cost_cents: num(row.cost_cents),
    metrics: row.metrics,
    profile: row.profile,
    retrieved_at: iso(row.retrieved_at),
    generated_at: iso(row.generated_at),
    completed_at: iso(row.completed_at),
    failed_at: iso(row.failed_at),
    failed_reason: row.failed_reason,
    version: Number(row.version),
  };
}

/** The recommendation of an assessment, or undefined while none is recorded. */
export async function recommendationOfAssessment(
  db: Db,
  assessmentId: string,
): Promise<RecommendationView | undefined> {
  if (!isUuid(assessmentId)) return undefined;
  const { rows } = await db.query<RecommendationRow>(
    `SELECT ${RECOMMENDATION_COLUMNS} FROM recommendations WHERE assessment_id = $1`,
    [assessmentId],
  );
  return rows[0] ? recommendationOfRow(rows[0]) : undefined;
}

/** A recommendation by its id, or undefined. */
export async function findRecommendation(db: Db, recommendationId: string): Promise<RecommendationView | undefined> {
  if (!isUuid(recommendationId)) return undefined;
  const { rows } = await db.query<RecommendationRow>(
    `SELECT ${RECOMMENDATION_COLUMNS} FROM recommendations WHERE id = $1`,
    [recommendationId],
  );
  return rows[0] ? recommendationOfRow(rows[0]) : undefined;
}

/** What a recommendation item id names (the result's `item_id`), or undefined. */
export async function findRecommendationItem(
  db: Db,
  itemId: string,
): Promise<{ item_id: string; recommendation_id: string; credential_id: string } | undefined> {
  if (!isUuid(itemId)) return undefined;
  const { rows } = await db.query<{ id: string; recommendation_id: string; credential_id: string }>(
    'SELECT id, recommendation_id, credential_id FROM recommendation_items WHERE id = $1',
    [itemId],
  );
  const row = rows[0];
  return row
    ? { item_id: row.id, recommendation_id: row.recommendation_id, credential_id: row.credential_id }
    : undefined;
}

/** The assessment's recommendation with its items and evidence, or undefined while none is recorded. */
export async function recommendationResultOf(
  db: Db,
  assessmentId: string,
): Promise<RecommendationResultView | undefined> {
  const recommendation = await recommendationOfAssessment(db, assessmentId);
  if (!recommendation) return undefined;
  const id = recommendation.recommendation_id;
  const [items, traces] = await Promise.all([
    db.query<{
      id: string;
      credential_id: string;
      title: string;
      confidence: string;
      rationale: string | null;
      source_trace_ids: string[] | null;
      position: number;
      score_content: string | null;
      score_skill_gap: string | null;
      score_collaborative: string | null;
    }>(
      `SELECT id, credential_id, title, confidence, rationale, source_trace_ids, position, score_content,
              score_skill_gap, score_collaborative
       FROM recommendation_items WHERE recommendation_id = $1 ORDER BY position, id`,
      [id],
    ),
    db.query<{
      id: string;
      position: number | null;
      source_uri: string;
      source_id: string | null;
      source_type: string | null;
      snippet: string;
      start_offset: number | null;
      end_offset: number | null;
      similarity: string;
      embedding_provider: string | null;
      embedding_model: string | null;
    }>(
      `SELECT id, position, source_uri, source_id, source_type, snippet, start_offset, end_offset, similarity,
              embedding_provider, embedding_model
       FROM rag_traces WHERE recommendation_id = $1 ORDER BY position NULLS LAST, id`,
      [id],
    ),
  ]);
  return {
    recommendation,
    items: items.rows.map((row) => ({
      item_id: row.id,
      credential_id: row.credential_id,
      title: row.title,
      confidence: Number(row.confidence),
      rationale: row.rationale ?? '',
      source_trace_ids: row.source_trace_ids ?? [],
      position: row.position,
      scores: {
        content: num(row.score_content),
        skill_gap: num(row.score_skill_gap),
        collaborative: num(row.score_collaborative),
      },
    })),
    traces: traces.rows.map((row, i) => ({
      trace_id: row.id,
      position: row.position ?? i + 1,
      source_uri: row.source_uri,
      source_id: row.source_id,
      source_type: row.source_type,
      snippet: row.snippet,
      start: row.start_offset,
      end: row.end_offset,
      similarity: Number(row.similarity),
      embedding_provider: row.embedding_provider,
      embedding_model: row.embedding_model,
    })),
  };
}

interface FeedbackRow {
  id: string;
  recommendation_id: string;
  assessment_id: string;
  credential_id: string;
  submitted_by: string;
  submitted_by_role: string;
  relevance_score: number;
  acceptance_status: AcceptanceStatus | null;
  comments: string | null;
  revision: number;
  submitted_at: Date;
  created_at: Date;
}

/**
 * The feedback on a recommendation, each person's latest revision per item, oldest first;
 * narrowed to one item and/or one submitter when given.
 */
export async function feedbackOf(
  db: Db,
  recommendationId: string,
  filter: { credentialId?: string; submittedBy?: string } = {},
): Promise<FeedbackView[]> {
  if (!isUuid(recommendationId)) return [];
  if (filter.credentialId !== undefined && !isUuid(filter.credentialId)) return [];
  if (filter.submittedBy !== undefined && !isUuid(filter.submittedBy)) return [];
  const { rows } = await db.query<FeedbackRow>(
    `SELECT id, recommendation_id, assessment_id, credential_id, submitted_by, submitted_by_role, relevance_score,
            acceptance_status, comments, revision, submitted_at, created_at
     FROM recommendation_feedback
     WHERE recommendation_id = $1 AND credential_id IS NOT NULL
       AND ($2::uuid IS NULL OR credential_id = $2) AND ($3::uuid IS NULL OR submitted_by = $3)
     ORDER BY created_at, id`,
    [recommendationId, filter.credentialId ?? null, filter.submittedBy ?? null],
  );
  return rows.map((row) => ({
    feedback_id: row.id,
    recommendation_id: row.recommendation_id,
    assessment_id: row.assessment_id,
    credential_id: row.credential_id,
    submitted_by: { id: row.submitted_by, role: row.submitted_by_role },
    relevance_score: row.relevance_score,
    acceptance_status: row.acceptance_status ?? 'pending',
    comments: row.comments,
    revision: row.revision,
    submitted_at: row.submitted_at.toISOString(),
    first_submitted_at: row.created_at.toISOString(),
  }));
}

/** One earlier student of a role, as the collaborative signal compares students. */
export interface PriorStudentView {
  student_id: string;
  assessment_id: string;
  role_id: string;
  /** The need vector of their profile (the role's skill order). */
  vector: number[];
  /** Each submitter's latest feedback on each item; relevance = (score − 1) / 4, 0..1. */
  feedback: { credential_id: string; status: AcceptanceStatus; relevance: number }[];
}

export const DEFAULT_PRIOR_STUDENTS_LIMIT = 2000;

/**
 * The earlier students of `roleId` for the collaborative signal: the ready recommendations of
 * the role that recorded a profile, newest first (`limit`, default 2000), without
 * `excludeAssessmentId` (the assessment being ranked), each with the feedback on its items. The
 * student is the assessment's (from the assessments read model).
 */
export async function priorStudentsOf(
  db: Db,
  roleId: string,
  options: { limit?: number; excludeAssessmentId?: string } = {},
): Promise<PriorStudentView[]> {
  if (!isUuid(roleId)) return [];
  const limit = Math.max(0, Math.floor(options.limit ?? DEFAULT_PRIOR_STUDENTS_LIMIT));
  if (limit === 0) return [];
  const exclude =
    options.excludeAssessmentId !== undefined && isUuid(options.excludeAssessmentId)
      ? options.excludeAssessmentId
      : null;
  const { rows } = await db.query<{
    assessment_id: string;
    student_id: string;
    role_id: string;
    vector: unknown;
    feedback: { credential_id: string; status: AcceptanceStatus | null; score: number }[];
  }>(
    `WITH prior AS (
       SELECT r.id, r.assessment_id, r.role_id, r.profile->'vector' AS vector, r.generated_at
       FROM recommendations r
       WHERE r.status = 'ready' AND r.role_id = $1 AND r.profile IS NOT NULL
         AND ($3::uuid IS NULL OR r.assessment_id <> $3)
       ORDER BY r.generated_at DESC, r.id DESC
       LIMIT $2
     )
     SELECT p.assessment_id, a.user_id AS student_id, p.role_id, p.vector,
            coalesce((SELECT jsonb_agg(jsonb_build_object('credential_id', f.credential_id,
                                                          'status', f.acceptance_status,
                                                          'score', f.relevance_score)
                                       ORDER BY f.credential_id, f.submitted_by)
                      FROM recommendation_feedback f
                      WHERE f.recommendation_id = p.id AND f.credential_id IS NOT NULL
                        AND f.relevance_score IS NOT NULL), '[]'::jsonb) AS feedback
     FROM prior p JOIN assessments a ON a.id = p.assessment_id
     ORDER BY p.generated_at DESC, p.id DESC`,
    [roleId, limit, exclude],
  );
  return rows.map((row) => ({
    student_id: row.student_id,
    assessment_id: row.assessment_id,
    role_id: row.role_id,
    vector: Array.isArray(row.vector) ? row.vector.map(Number) : [],
    feedback: row.feedback.map((f) => ({
      credential_id: f.credential_id,
      status: f.status ?? 'pending',
      relevance: (f.score - 1) / 4,
    })),
  }));
}
