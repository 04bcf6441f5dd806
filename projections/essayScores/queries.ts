import type { Pool } from 'pg';
import type { EssayCriterionResult } from '../../domain/assessment/assessment';
import type { Actor } from '../../domain/shared/decider';
import { isUuid } from '../../domain/shared/ids';

// Queries over essay scoring's read models (see ./projection.ts) and the processors' jobs.

type Db = Pick<Pool, 'query'>;

export interface EssayScoreView {
  question_id: string;
  /** The assessment version (event) that last wrote the row. */
  version: number;
  status: 'scored' | 'failed' | 'overridden';
  score: number | null;
  max_score: number | null;
  criteria: EssayCriterionResult[];
  rationale: string | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  degraded: boolean;
  flags: string[];
  needs_review: boolean;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_cents: number | null;
  latency_ms: number | null;
  failure: { reason: string; attempts: number } | null;
  override: { previous_score: number | null; reason: string; by: Actor; at: string } | null;
  updated_at: string;
}

interface EssayScorePayload {
  criteria?: EssayCriterionResult[];
  rationale?: string;
  flags?: string[];
  failure?: { reason: string; attempts: number };
  override?: { previous_score: number | null; reason: string; by: Actor; at: string };
}

interface EssayScoreRow {
  question_id: string;
  version: string;
  status: EssayScoreView['status'];
  score: string | null;
  max_score: string | null;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  degraded: boolean;
  needs_review: boolean;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_cents: string | null;
  latency_ms: number | null;
  response_payload: EssayScorePayload | null;
  updated_at: Date;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/** The assessment's essay scores (scored, failed or overridden), in question order. */
export async function essayScoresOf(db: Db, assessmentId: string): Promise<EssayScoreView[]> {
  if (!isUuid(assessmentId)) return [];
  const { rows } = await db.query<EssayScoreRow>(
    `SELECT e.question_id, e.version, e.status, e.score, e.max_score, e.provider, e.model, e.prompt_version, e.degraded,
            e.needs_review, e.tokens_in, e.tokens_out, e.cost_cents, e.latency_ms, e.response_payload, e.updated_at
     FROM essay_scores e JOIN assessment_question_snapshots s ON s.id = e.question_snapshot_id
     WHERE e.assessment_id = $1
     ORDER BY s.position`,
    [assessmentId],
  );
  return rows.map((row) => {
    const payload = row.response_payload ?? {};
    return {
      question_id: row.question_id,
      version: Number(row.version),
      status: row.status,
      score: num(row.score),
      max_score: num(row.max_score),
      criteria: Array.isArray(payload.criteria) ? payload.criteria : [],
      rationale: payload.rationale ?? null,
      provider: row.provider,
      model: row.model,
      prompt_version: row.prompt_version,
      degraded: row.degraded,
      flags: Array.isArray(payload.flags) ? payload.flags : [],
      needs_review: row.needs_review,
      tokens_in: row.tokens_in,
      tokens_out: row.tokens_out,
      cost_cents: num(row.cost_cents),
      latency_ms: row.latency_ms,
      failure: payload.failure ?? null,
      override: payload.override ?? null,
      updated_at: row.updated_at.toISOString(),
    };
  });
}

export type JobStatus =
  'waiting' | 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';

export interface EssayJobView {
  question_id: string;
  status: JobStatus;
  attempts: number;
  next_run_at: string | null;
  /** The last attempt's error, if it failed. */
  last_error: string | null;
}

/**
 * The essay-scoring jobs of an assessment, keyed by question id. `scope` is the processors'
 * scope (the topic prefix), so systems sharing one database never see each other's jobs.
 */
export async function essayJobsOf(db: Db, scope: string, assessmentId: string): Promise<Map<string, EssayJobView>> {
  const jobs = new Map<string, EssayJobView>();
  if (!isUuid(assessmentId)) return jobs;
  const { rows } = await db.query<{
    question_id: string | null;
    status: JobStatus;
    attempts: number;
    next_run_at: Date | null;
    error_payload: unknown;
  }>(
    `SELECT payload->>'question_id' AS question_id, status, attempts, next_run_at, error_payload
     FROM async_jobs WHERE scope = $1 AND job_type = 'essay_scoring' AND assessment_id = $2`,
    [scope, assessmentId],
  );
  for (const row of rows) {
    if (!row.question_id) continue;
    const error = errorText(row.error_payload);
    jobs.set(row.question_id, {
      question_id: row.question_id,
      status: row.status,
      attempts: row.attempts,
      next_run_at: row.next_run_at ? row.next_run_at.toISOString() : null,
      last_error: error,
    });
  }
  return jobs;
}

/** The job's recorded error as one line: a string, or an object's `message` / `reason`. */
function errorText(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  if (typeof payload !== 'object' || payload === null) return null;
  const { message, reason } = payload as { message?: unknown; reason?: unknown };
  return typeof message === 'string' ? message : typeof reason === 'string' ? reason : null;
}

export interface ScoredExamplesSummaryView {
  total: number;
  by_source: { import: number; override: number };
  score_distribution: { score: number; count: number }[];
}

/** How many human-scored examples a question has, per source and per score. */
export async function scoredExamplesSummary(db: Db, questionId: string): Promise<ScoredExamplesSummaryView> {
  const summary: ScoredExamplesSummaryView = {
    total: 0,
    by_source: { import: 0, override: 0 },
    score_distribution: [],
  };
  if (!isUuid(questionId)) return summary;
  const { rows } = await db.query<{ source: 'import' | 'override'; score: string; n: number }>(
    `SELECT source, score, count(*)::int AS n FROM essay_examples WHERE question_id = $1
     GROUP BY source, score ORDER BY score`,
    [questionId],
  );
  const byScore = new Map<number, number>();
  for (const row of rows) {
    const score = Number(row.score);
    summary.total += row.n;
    summary.by_source[row.source] += row.n;
    byScore.set(score, (byScore.get(score) ?? 0) + row.n);
  }
  summary.score_distribution = [...byScore].map(([score, count]) => ({ score, count }));
  return summary;
}
