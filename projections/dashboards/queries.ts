import type { Pool } from 'pg';
import { isUuid } from '../../domain/shared/ids';
import type { MetricType } from '../recommendations/projection';

// Dashboards' queries for advisors and admins: read-only, over the read models other
// projections keep (assessments, essay_scores, recommendation_*, metric_snapshots) and the
// projections' own offsets. Indexes: migrations/0007_dashboard_indexes.sql and
// 0009_recommendations.sql.

type Db = Pick<Pool, 'query'>;

/** The recommendations projection's metric of the whole processing's token cost. */
const TOKEN_COST_METRIC: MetricType = 'token_cost_cents';

export type AssessmentStatus = 'in_progress' | 'awaiting_async' | 'completed' | 'failed';
export const ASSESSMENT_STATUSES: readonly AssessmentStatus[] = [
  'in_progress',
  'awaiting_async',
  'completed',
  'failed',
];

/** The instant the list is sorted (and its cursor keyed) by. */
export type DateField = 'started_at' | 'submitted_at';

export interface AssessmentFilters {
  status?: AssessmentStatus;
  roleId?: string;
  userId?: string;
  degraded?: boolean;
  /** Range on `dateField`: from inclusive, to exclusive. */
  from?: Date;
  to?: Date;
  dateField: DateField;
}

/** Where a page starts: the sort key of the last row of the previous page. */
export interface Cursor {
  field: DateField;
  /** The row's sort instant as PostgreSQL prints it in UTC, to the microsecond (exact round trip). */
  at: string;
  id: string;
}

export interface DashboardAssessment {
  assessment_id: string;
  user_id: string;
  role_id: string;
  status: AssessmentStatus;
  degraded: boolean;
  answered: number;
  total: number;
  started_at: string;
  submitted_at: string | null;
  completed_at: string | null;
  essays: { count: number; scored: number; failed: number; needs_review: number; cost_cents: number };
}

export interface AssessmentPage {
  items: DashboardAssessment[];
  next_cursor: Cursor | null;
}

const PG_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The cursor as the API hands it out: opaque (base64url of a small JSON array). */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.field === 'started_at' ? 's' : 'u', cursor.at, cursor.id])).toString(
    'base64url',
  );
}

/** The cursor a client sent back, or undefined when it is not one of ours. */
export function decodeCursor(raw: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(raw)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [field, at, id] = value as unknown[];
  if ((field !== 's' && field !== 'u') || typeof at !== 'string' || typeof id !== 'string') return undefined;
  if (!PG_UTC.test(at) || Number.isNaN(Date.parse(at)) || !isUuid(id)) return undefined;
  return { field: field === 's' ? 'started_at' : 'submitted_at', at, id: id.toLowerCase() };
}

interface ListRow {
  id: string;
  user_id: string;
  role_id: string;
  status: AssessmentStatus;
  degraded: boolean;
  answered: number;
  total: number;
  started_at: Date;
  submitted_at: Date | null;
  completed_at: Date | null;
  sort_at: string;
  essays: number | null;
  scored: number | null;
  failed: number | null;
  needs_review: number | null;
  cost_cents: string | null;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/**
 * One page of assessments, newest first by `dateField` then id (descending): keyset pagination,
 * so a page costs the same wherever it is, and rows inserted meanwhile never shift later pages
 * (a new row sorts before the cursor, or after it where it belongs). `limit` rows at most.
 */
export async function listAssessments(
  db: Db,
  filters: AssessmentFilters,
  limit: number,
  after?: Cursor,
): Promise<AssessmentPage> {
  const field = filters.dateField; // a whitelisted column name
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (field === 'submitted_at') where.push('a.submitted_at IS NOT NULL');
  if (filters.status) where.push(`a.status = ${param(filters.status)}`);
  if (filters.roleId) where.push(`a.role_id = ${param(filters.roleId)}`);
  if (filters.userId) where.push(`a.user_id = ${param(filters.userId)}`);
  if (filters.degraded !== undefined) where.push(`a.degraded = ${param(filters.degraded)}`);
  if (filters.from) where.push(`a.${field} >= ${param(filters.from)}`);
  if (filters.to) where.push(`a.${field} < ${param(filters.to)}`);
  if (after) where.push(`(a.${field}, a.id) < (${param(after.at)}::timestamptz, ${param(after.id)}::uuid)`);
  const { rows } = await db.query<ListRow>(
    `WITH page AS (
       SELECT a.id, a.user_id, a.role_id, a.status, a.degraded, a.answered, a.total, a.started_at, a.submitted_at,
              a.completed_at, to_char(a.${field} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sort_at
       FROM assessments a
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY a.${field} DESC, a.id DESC
       LIMIT ${param(limit + 1)}
     )
     SELECT page.*, e.essays, e.scored, e.failed, e.needs_review, e.cost_cents
     FROM page
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS essays,
              count(*) FILTER (WHERE s.status IN ('scored', 'overridden'))::int AS scored,
              count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
              count(*) FILTER (WHERE s.needs_review)::int AS needs_review,
              coalesce(sum(s.cost_cents), 0) AS cost_cents
       FROM essay_scores s WHERE s.assessment_id = page.id
     ) e ON TRUE
     ORDER BY page.${field} DESC, page.id DESC`,
    params,
  );
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return {
    items: shown.map((row) => ({
      assessment_id: row.id,
      user_id: row.user_id,
      role_id: row.role_id,
      status: row.status,
      degraded: row.degraded,
      answered: row.answered,
      total: row.total,
      started_at: row.started_at.toISOString(),
      submitted_at: iso(row.submitted_at),
      completed_at: iso(row.completed_at),
      essays: {
        count: row.essays ?? 0,
        scored: row.scored ?? 0,
        failed: row.failed ?? 0,
        needs_review: row.needs_review ?? 0,
        cost_cents: Number(row.cost_cents ?? 0),
      },
    })),
    next_cursor: more && last ? { field, at: last.sort_at, id: last.id } : null,
  };
}

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
}

export interface MetricsSummary {
  from: string;
  to: string;
  assessments: {
    started: number;
    in_progress: number;
    awaiting_async: number;
    completed: number;
    failed: number;
    degraded: number;
    degraded_rate: number | null;
    failure_rate: number | null;
  };
  per_hour: { hour: string; started: number; completed: number; failed: number; degraded: number }[];
  submit_to_result_ms: Distribution;
  stages: { stage: string; count: number; avg: number; p50: number; p95: number }[];
  token_cost_cents: { assessments: number; total: number; avg: number | null; p95: number | null };
  consumer_lag: {
    source: 'offsets_age';
    projections: { projection: string; partitions: number; last_applied_at: string; age_seconds: number }[];
  };
}

const maybe = (v: string | number | null): number | null => (v === null ? null : Number(v));
const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * The operations summary of the window [from, to): assessments started in it (per hour, by
 * status, their degraded and failure rates, their token cost), the submit-to-result latency
 * of those submitted in it and completed, the latencies (`*_ms`) of `metric_snapshots` captured
 * in it, and how long ago each projection of `topicPrefix` last stored offsets.
 */
export async function metricsSummary(db: Db, from: Date, to: Date, topicPrefix: string): Promise<MetricsSummary> {
  const window = [from, to];
  const [counts, hours, latency, stages, cost, offsets] = await Promise.all([
    db.query<Record<'started' | 'in_progress' | 'awaiting_async' | 'completed' | 'failed' | 'degraded', number>>(
      `SELECT count(*)::int AS started,
              count(*) FILTER (WHERE status = 'in_progress')::int AS in_progress,
              count(*) FILTER (WHERE status = 'awaiting_async')::int AS awaiting_async,
              count(*) FILTER (WHERE status = 'completed')::int AS completed,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE degraded)::int AS degraded
       FROM assessments WHERE started_at >= $1 AND started_at < $2`,
      window,
    ),
    db.query<{ hour: Date; started: number; completed: number; failed: number; degraded: number }>(
      `SELECT h.hour, coalesce(c.started, 0)::int AS started, coalesce(c.completed, 0)::int AS completed,
              coalesce(c.failed, 0)::int AS failed, coalesce(c.degraded, 0)::int AS degraded
       FROM generate_series(date_trunc('hour', $1::timestamptz), $2::timestamptz - interval '1 microsecond',
                            interval '1 hour') AS h(hour)
       LEFT JOIN (
         SELECT date_trunc('hour', started_at) AS hour, count(*) AS started,
                count(*) FILTER (WHERE status = 'completed') AS completed,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE degraded) AS degraded
         FROM assessments WHERE started_at >= $1 AND started_at < $2 GROUP BY 1
       ) c ON c.hour = h.hour
       ORDER BY h.hour`,
      window,
    ),
    db.query<{ count: number; p50: number | null; p95: number | null }>(
      `SELECT count(*)::int AS count,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95
       FROM (SELECT extract(epoch FROM completed_at - submitted_at) * 1000 AS ms
             FROM assessments
             WHERE submitted_at >= $1 AND submitted_at < $2 AND status = 'completed' AND completed_at IS NOT NULL) t`,
      window,
    ),
    // Latencies only (metric types ending in _ms); the recorded cost is a metric too, summed below.
    db.query<{ stage: string; count: number; avg: string; p50: number; p95: number }>(
      `SELECT metric_type AS stage, count(*)::int AS count, avg(value) AS avg,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS p95
       FROM metric_snapshots WHERE captured_at >= $1 AND captured_at < $2 AND metric_type LIKE '%\\_ms'
       GROUP BY metric_type ORDER BY metric_type`,
      window,
    ),
    // Per assessment: the processing's recorded token cost once its recommendations exist (essays,
    // embeddings, rationales), else what its essay scores have cost so far.
    db.query<{ assessments: number; total: string | null; avg: string | null; p95: number | null }>(
      `SELECT count(*)::int AS assessments, sum(cents) AS total, avg(cents) AS avg,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY cents) AS p95
       FROM assessments a
       CROSS JOIN LATERAL (
         SELECT coalesce(
                  (SELECT m.value FROM metric_snapshots m
                   WHERE m.assessment_id = a.id AND m.metric_type = '${TOKEN_COST_METRIC}'),
                  (SELECT sum(e.cost_cents) FROM essay_scores e WHERE e.assessment_id = a.id)) AS cents
       ) c
       WHERE a.started_at >= $1 AND a.started_at < $2 AND c.cents IS NOT NULL`,
      window,
    ),
    db.query<{ projection: string; partitions: number; last_applied_at: Date; age_seconds: number }>(
      `SELECT projection, count(*)::int AS partitions, max(updated_at) AS last_applied_at,
              extract(epoch FROM now() - max(updated_at))::float8 AS age_seconds
       FROM projection_offsets WHERE starts_with(topic, $1)
       GROUP BY projection ORDER BY projection`,
      [`${topicPrefix}.`],
    ),
  ]);
  const c = counts.rows[0]!;
  const l = latency.rows[0]!;
  const k = cost.rows[0]!;
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    assessments: {
      ...c,
      degraded_rate: ratio(c.degraded, c.started),
      failure_rate: ratio(c.failed, c.completed + c.failed),
    },
    per_hour: hours.rows.map((h) => ({ ...h, hour: h.hour.toISOString() })),
    submit_to_result_ms: { count: l.count, p50: maybe(l.p50), p95: maybe(l.p95) },
    stages: stages.rows.map((s) => ({ ...s, avg: Number(s.avg), p50: Number(s.p50), p95: Number(s.p95) })),
    token_cost_cents: { assessments: k.assessments, total: Number(k.total ?? 0), avg: maybe(k.avg), p95: maybe(k.p95) },
    consumer_lag: {
      source: 'offsets_age',
      projections: offsets.rows.map((o) => ({
        projection: o.projection,
        partitions: o.partitions,
        last_applied_at: o.last_applied_at.toISOString(),
        age_seconds: Math.max(0, Number(o.age_seconds)),
      })),
    },
  };
}

export interface CredentialFeedback {
  credential_id: string;
  title: string;
  feedback: number;
  accepted: number;
  rejected: number;
  pending: number;
  mean_relevance: number | null;
}

export interface FeedbackFilters {
  from?: Date;
  to?: Date;
  credentialId?: string;
}

/**
 * Feedback per recommended credential: each person's feedback on a credential of a
 * recommendation (their latest revision) counts once, for that credential. Most discussed first;
 * `limit` credentials at most. A feedback without acceptance status counts as pending.
 */
export async function feedbackSummary(db: Db, filters: FeedbackFilters, limit: number): Promise<CredentialFeedback[]> {
  const where = ['f.credential_id IS NOT NULL'];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.from) where.push(`f.submitted_at >= ${param(filters.from)}`);
  if (filters.to) where.push(`f.submitted_at < ${param(filters.to)}`);
  if (filters.credentialId) where.push(`f.credential_id = ${param(filters.credentialId)}`);
  const { rows } = await db.query<Omit<CredentialFeedback, 'mean_relevance'> & { mean_relevance: string | null }>(
    `SELECT f.credential_id, max(i.title) AS title, count(*)::int AS feedback,
            count(*) FILTER (WHERE f.acceptance_status = 'accepted')::int AS accepted,
            count(*) FILTER (WHERE f.acceptance_status = 'rejected')::int AS rejected,
            count(*) FILTER (WHERE f.acceptance_status IS NULL OR f.acceptance_status = 'pending')::int AS pending,
            avg(f.relevance_score) AS mean_relevance
     FROM recommendation_feedback f
     JOIN recommendation_items i ON i.recommendation_id = f.recommendation_id AND i.credential_id = f.credential_id
     WHERE ${where.join(' AND ')}
     GROUP BY f.credential_id
     ORDER BY feedback DESC, f.credential_id
     LIMIT ${param(limit)}`,
    params,
  );
  return rows.map((row) => ({ ...row, mean_relevance: maybe(row.mean_relevance) }));
}
