import type { PoolClient } from 'pg';
import { idFromKey } from '../../../domain/shared/ids';
import { inTransaction, type Pool } from '../../platform/postgres/pool';

/**
 * The processors' durable jobs (`async_jobs`). A job is born in the intake transaction of the
 * event that calls for it (same transaction as the consumed offset, so an event makes its job
 * exactly once), and each attempt is one row update: claimed with a lease, then finished,
 * retried at `next_run_at`, or given up. A worker that dies mid-attempt leaves a lapsed lease,
 * and the job is claimed again: at-least-once work, made exactly-once by the decider, which
 * drops a second report for the same job.
 */
export type JobStatus =
  'waiting' | 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'rejected' | 'cancelled';

export interface Job<P> {
  id: string;
  key: string;
  type: string;
  assessment_id: string | null;
  /** The queue the job waits in (e.g. a webhook subscription): capped concurrency, paused together. */
  lane: string | null;
  status: JobStatus;
  /** Attempts started so far, this one included once claimed. */
  attempts: number;
  payload: P;
}

export interface JobRow {
  id: string;
  job_key: string;
  job_type: string;
  assessment_id: string | null;
  lane: string | null;
  status: JobStatus;
  attempts: number;
  payload: unknown;
}

export const jobIdOf = (scope: string, key: string): string => idFromKey('job', `${scope}/${key}`);

function toJob<P>(row: JobRow): Job<P> {
  return {
    id: row.id,
    key: row.job_key,
    type: row.job_type,
    assessment_id: row.assessment_id,
    lane: row.lane,
    status: row.status,
    attempts: row.attempts,
    payload: row.payload as P,
  };
}

/** A job to create. */
export interface NewJob<P> {
  key: string;
  assessment_id: string | null;
  payload: P;
  status: 'waiting' | 'queued';
  /** Its lane: at most the runtime's `laneConcurrency` of a lane's jobs run at once, and a paused lane's wait. */
  lane?: string;
  /** Its place among its lane's jobs due at the same moment (e.g. the offset of the event that made it). */
  seq?: number;
  /**
   * Jobs with the same order key run one at a time, in `seq` order (required then): a job waits
   * while an earlier one is not finished (succeeded, failed, rejected or cancelled).
   */
  orderKey?: string;
}

/**
 * What an intake may do with its jobs, inside the intake transaction. A job is `waiting` while
 * the events that complete it are still to come (an essay question before submission), then
 * `queued` for the runner, or `cancelled`. Lanes are paused and resumed here too, so that the
 * event that pauses a lane and the jobs created after it are one consistent history.
 */
export class JobIntake<P extends object> {
  constructor(
    private readonly client: PoolClient,
    private readonly scope: string,
    private readonly jobType: string,
  ) {}

  /** The intake transaction, for reads that must see what it wrote. */
  get db(): Pick<PoolClient, 'query'> {
    return this.client;
  }

  /** Creates the job unless it exists (a replayed event changes nothing). */
  async create(job: NewJob<P>) {
    await createJob(this.client, this.scope, this.jobType, job);
  }

  /** Stops claiming the lane's jobs (they keep their attempts and wait) until it is resumed. */
  async pauseLane(lane: string, reason: string | null): Promise<void> {
    await pauseLane(this.client, this.scope, this.jobType, lane, reason);
  }

  async resumeLane(lane: string): Promise<void> {
    await this.client.query(
      `UPDATE async_job_lanes SET paused_at = NULL, reason = NULL, updated_at = NOW()
       WHERE scope = $1 AND job_type = $2 AND lane = $3`,
      [this.scope, this.jobType, lane],
    );
  }

  /**
   * Cancels every unfinished job of the lane, running ones included (their worker's end of the
   * attempt then changes nothing: it only finishes a job still `running`).
   */
  async cancelLane(lane: string, reason: string): Promise<number> {
    const { rowCount } = await this.client.query(
      `UPDATE async_jobs SET status = 'cancelled', completed_at = NOW(), updated_at = NOW(), lease_until = NULL,
         next_run_at = NULL, error_payload = jsonb_build_object('reason', $4::text)
       WHERE scope = $1 AND job_type = $2 AND lane = $3 AND status IN ('waiting', 'queued', 'running', 'retrying')`,
      [this.scope, this.jobType, lane, reason],
    );
    return rowCount ?? 0;
  }

  /** Merges `patch` into a waiting job's payload. */
  async update(key: string, patch: Partial<P>): Promise<void> {
    await this.client.query(
      `UPDATE async_jobs SET payload = payload || $3::jsonb, updated_at = NOW()
       WHERE scope = $1 AND job_key = $2 AND status = 'waiting'`,
      [this.scope, key, JSON.stringify(patch)],
    );
  }

  /**
   * Sets one value deep in a waiting job's payload (`path` of keys; every key but the last must
   * exist), so that a map the events fill in one entry at a time is not rewritten whole.
   */
  async set(key: string, path: readonly string[], value: unknown): Promise<void> {
    await this.client.query(
      `UPDATE async_jobs SET payload = jsonb_set(payload, $3::text[], $4::jsonb, true), updated_at = NOW()
       WHERE scope = $1 AND job_key = $2 AND status = 'waiting'`,
      [this.scope, key, path, JSON.stringify(value)],
    );
  }

  /** One job of this type, whatever its status, or undefined. */
  async find(key: string): Promise<Job<P> | undefined> {
    const { rows } = await this.client.query<JobRow>(
      `SELECT id, job_key, job_type, assessment_id, lane, status, attempts, payload FROM async_jobs
       WHERE scope = $1 AND job_key = $2 AND job_type = $3`,
      [this.scope, key, this.jobType],
    );
    return rows[0] && toJob<P>(rows[0]);
  }

  /** The waiting jobs of an assessment. */
  async waiting(assessmentId: string): Promise<Job<P>[]> {
    const { rows } = await this.client.query<JobRow>(
      `SELECT id, job_key, job_type, assessment_id, lane, status, attempts, payload FROM async_jobs
       WHERE scope = $1 AND job_type = $2 AND assessment_id = $3 AND status = 'waiting' ORDER BY job_key`,
      [this.scope, this.jobType, assessmentId],
    );
    return rows.map((row) => toJob<P>(row));
  }

  async queue(key: string): Promise<void> {
    await this.client.query(
      `UPDATE async_jobs SET status = 'queued', queued_at = NOW(), next_run_at = NOW(), updated_at = NOW()
       WHERE scope = $1 AND job_key = $2 AND status = 'waiting'`,
      [this.scope, key],
    );
  }

  async cancel(key: string, reason: string): Promise<void> {
    await this.client.query(
      `UPDATE async_jobs SET status = 'cancelled', completed_at = NOW(), updated_at = NOW(),
         error_payload = jsonb_build_object('reason', $3::text)
       WHERE scope = $1 AND job_key = $2 AND status IN ('waiting', 'queued', 'retrying')`,
      [this.scope, key, reason],
    );
  }
}

/** The runner's side of the job table. */
export class JobStore {
  constructor(
    private readonly pool: Pool,
    private readonly scope: string,
    private readonly jobType: string,
    /** Running jobs per lane at most (undefined: no cap). */
    private readonly laneConcurrency?: number,
  ) {}

  /**
   * Claims up to `limit` due jobs for `leaseMs`: queued or retrying ones whose time has come,
   * and running ones whose worker's lease lapsed (it died mid-attempt), leaving out jobs of a
   * paused lane, jobs whose lane already runs `laneConcurrency`, and jobs behind an unfinished
   * earlier job of their order key. SKIP LOCKED lets several workers claim side by side without
   * taking the same job; with a lane cap, claims are serialised (an advisory lock held for the
   * claim's transaction) so that two workers cannot both fill a lane's last slot.
   */
  async claim<P>(worker: string, limit: number, leaseMs: number): Promise<Job<P>[]> {
    const claim = (db: Pick<PoolClient, 'query'>) =>
      db.query<JobRow>({
        name: 'async-jobs-claim',
        text: CLAIM_SQL,
        values: [this.scope, this.jobType, limit, worker, leaseMs, this.laneConcurrency ?? null],
      });
    if (this.laneConcurrency === undefined) return (await claim(this.pool)).rows.map((row) => toJob<P>(row));
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`async_jobs/${this.scope}/${this.jobType}`]);
      return (await claim(client)).rows.map((row) => toJob<P>(row));
    });
  }

  /** Stops claiming a lane's jobs (e.g. its endpoint is gone), until an intake resumes it. */
  async pauseLane(lane: string, reason: string | null): Promise<void> {
    await pauseLane(this.pool, this.scope, this.jobType, lane, reason);
  }

  /** Cancels a claimed job (its purpose is gone). */
  async cancel(job: Job<unknown>, worker: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE async_jobs SET status = 'cancelled', completed_at = NOW(), lease_until = NULL, next_run_at = NULL,
         error_payload = jsonb_build_object('reason', $3::text), updated_at = NOW()
       WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [job.id, worker, reason],
    );
  }

  /**
   * Puts a claimed job back without counting its attempt (it did no work: e.g. its lane turned
   * out to be paused), to be claimed again after `delayMs`.
   */
  async defer(job: Job<unknown>, worker: string, delayMs: number, note: unknown): Promise<void> {
    await this.pool.query(
      `UPDATE async_jobs SET status = CASE WHEN attempts <= 1 THEN 'queued' ELSE 'retrying' END,
         attempts = GREATEST(attempts - 1, 0), error_payload = COALESCE($3, error_payload), lease_until = NULL,
         next_run_at = NOW() + make_interval(secs => $4::double precision / 1000), updated_at = NOW()
       WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [job.id, worker, note === undefined ? null : JSON.stringify(note), delayMs],
    );
  }

  /**
   * Runs finished jobs again from their first attempt (an operator's redelivery). Returns the
   * ids requeued; jobs still queued, running or waiting are left as they are.
   */
  async requeue(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE async_jobs SET status = 'queued', attempts = 0, next_run_at = NOW(), lease_until = NULL,
         completed_at = NULL, result = NULL, error_payload = NULL, locked_by = NULL, updated_at = NOW()
       WHERE scope = $1 AND job_type = $2 AND id = ANY($3::uuid[])
         AND status IN ('succeeded', 'failed', 'rejected', 'cancelled')
       RETURNING id`,
      [this.scope, this.jobType, ids],
    );
    return rows.map((r) => r.id);
  }

  /** Ends the attempt: done (`succeeded`, `failed` after giving up, `rejected` by the decider). */
  async finish(job: Job<unknown>, worker: string, status: 'succeeded' | 'failed' | 'rejected', result: unknown) {
    await this.pool.query(
      `UPDATE async_jobs SET status = $3, result = $4, completed_at = NOW(), lease_until = NULL, next_run_at = NULL,
         updated_at = NOW()
       WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [job.id, worker, status, JSON.stringify(result)],
    );
  }

  /** Schedules another attempt after `delayMs`, recording the error. */
  async retryLater(job: Job<unknown>, worker: string, delayMs: number, error: unknown): Promise<void> {
    await this.pool.query(
      `UPDATE async_jobs SET status = 'retrying', error_payload = $3, lease_until = NULL,
         next_run_at = NOW() + make_interval(secs => $4::double precision / 1000), updated_at = NOW()
       WHERE id = $1 AND locked_by = $2 AND status = 'running'`,
      [job.id, worker, JSON.stringify(error), delayMs],
    );
  }

  /** Records an error without ending the attempt (the give-up report is still to be sent). */
  async noteError(job: Job<unknown>, error: unknown): Promise<void> {
    await this.pool.query('UPDATE async_jobs SET error_payload = $2, updated_at = NOW() WHERE id = $1', [
      job.id,
      JSON.stringify(error),
    ]);
  }
}

/** Jobs not done yet per job type (queued, retrying, running): the backlog the metrics report. */
export async function jobBacklog(pool: Pool, scope: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ job_type: string; n: string }>(
    `SELECT job_type, count(*) AS n FROM async_jobs
     WHERE scope = $1 AND status IN ('queued', 'retrying', 'running') GROUP BY job_type`,
    [scope],
  );
  return Object.fromEntries(rows.map((r) => [r.job_type, Number(r.n)]));
}

/**
 * The claim: due jobs of the scope and type, not in a paused lane, not behind an unfinished
 * earlier job of their order key, at most `$6` running per lane (null: no cap), oldest due
 * first. The due conditions are repeated on the locked row so that a job another worker claimed
 * meanwhile is re-checked on its new version (and left alone) rather than claimed twice. The CTEs
 * are MATERIALIZED: each is computed once, whatever the planner believes of a table whose rows
 * it has not analysed yet (inlined, a misestimate had it recount the running jobs per candidate:
 * seconds per claim under a backlog).
 */
const CLAIM_SQL = `
  WITH busy AS MATERIALIZED (
    SELECT lane, count(*)::int AS running FROM async_jobs
    WHERE scope = $1 AND job_type = $2 AND lane IS NOT NULL AND status = 'running' AND lease_until >= NOW()
    GROUP BY lane
  ), due AS MATERIALIZED (
    SELECT c.id, c.lane, c.next_run_at,
      row_number() OVER (PARTITION BY c.lane ORDER BY c.next_run_at, c.order_seq NULLS LAST, c.id) AS rank
    FROM async_jobs c
    WHERE c.scope = $1 AND c.job_type = $2
      AND ((c.status IN ('queued', 'retrying') AND c.next_run_at <= NOW()) OR (c.status = 'running' AND c.lease_until < NOW()))
      AND (c.lane IS NULL OR NOT EXISTS (
        SELECT 1 FROM async_job_lanes l
        WHERE l.scope = c.scope AND l.job_type = c.job_type AND l.lane = c.lane AND l.paused_at IS NOT NULL))
      AND (c.order_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM async_jobs e
        WHERE e.scope = c.scope AND e.job_type = c.job_type AND e.order_key = c.order_key AND e.order_seq < c.order_seq
          AND e.status IN ('waiting', 'queued', 'running', 'retrying')))
  )
  UPDATE async_jobs j SET status = 'running', attempts = j.attempts + 1, locked_by = $4,
    lease_until = NOW() + make_interval(secs => $5::double precision / 1000),
    started_at = COALESCE(j.started_at, NOW()), updated_at = NOW()
  WHERE j.id IN (
    SELECT a.id FROM async_jobs a
    JOIN due d ON d.id = a.id
    LEFT JOIN busy b ON b.lane = d.lane
    WHERE ((a.status IN ('queued', 'retrying') AND a.next_run_at <= NOW()) OR (a.status = 'running' AND a.lease_until < NOW()))
      AND (d.lane IS NULL OR $6::int IS NULL OR d.rank + COALESCE(b.running, 0) <= $6::int)
    ORDER BY d.next_run_at NULLS FIRST, d.rank LIMIT $3 FOR UPDATE OF a SKIP LOCKED)
  RETURNING j.id, j.job_key, j.job_type, j.assessment_id, j.lane, j.status, j.attempts, j.payload`;

async function createJob<P>(
  db: Pick<PoolClient, 'query'>,
  scope: string,
  jobType: string,
  job: NewJob<P>,
): Promise<void> {
  if (job.orderKey !== undefined && job.seq === undefined) throw new Error(`job ${job.key}: an order key needs a seq`);
  await db.query(
    `INSERT INTO async_jobs (id, scope, job_key, assessment_id, job_type, status, payload, next_run_at, lane, order_key, order_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN NOW() END, $9, $10, $11)
     ON CONFLICT (scope, job_key) DO NOTHING`,
    [
      jobIdOf(scope, job.key),
      scope,
      job.key,
      job.assessment_id,
      jobType,
      job.status,
      job.payload,
      job.status === 'queued',
      job.lane ?? null,
      job.orderKey ?? null,
      job.seq ?? null,
    ],
  );
}

async function pauseLane(
  db: Pick<PoolClient, 'query'>,
  scope: string,
  jobType: string,
  lane: string,
  reason: string | null,
): Promise<void> {
  await db.query(
    `INSERT INTO async_job_lanes (scope, job_type, lane, paused_at, reason) VALUES ($1, $2, $3, NOW(), $4)
     ON CONFLICT (scope, job_type, lane) DO UPDATE
     SET paused_at = COALESCE(async_job_lanes.paused_at, NOW()), reason = EXCLUDED.reason, updated_at = NOW()`,
    [scope, jobType, lane, reason],
  );
}
