import type { PoolClient } from 'pg';
import { idFromKey } from '../../../domain/shared/ids';
import type { Pool } from '../../platform/postgres/pool';

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
    status: row.status,
    attempts: row.attempts,
    payload: row.payload as P,
  };
}

/**
 * What an intake may do with its jobs, inside the intake transaction. A job is `waiting` while
 * the events that complete it are still to come (an essay question before submission), then
 * `queued` for the runner, or `cancelled`.
 */
export class JobIntake<P extends object> {
  constructor(
    private readonly client: PoolClient,
    private readonly scope: string,
    private readonly jobType: string,
  ) {}

  /** Creates the job unless it exists (a replayed event changes nothing). */
  async create(job: { key: string; assessment_id: string | null; payload: P; status: 'waiting' | 'queued' }) {
    await this.client.query(
      `INSERT INTO async_jobs (id, scope, job_key, assessment_id, job_type, status, payload, next_run_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN NOW() END)
       ON CONFLICT (scope, job_key) DO NOTHING`,
      [
        jobIdOf(this.scope, job.key),
        this.scope,
        job.key,
        job.assessment_id,
        this.jobType,
        job.status,
        job.payload,
        job.status === 'queued',
      ],
    );
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
      `SELECT id, job_key, job_type, assessment_id, status, attempts, payload FROM async_jobs
       WHERE scope = $1 AND job_key = $2 AND job_type = $3`,
      [this.scope, key, this.jobType],
    );
    return rows[0] && toJob<P>(rows[0]);
  }

  /** The waiting jobs of an assessment. */
  async waiting(assessmentId: string): Promise<Job<P>[]> {
    const { rows } = await this.client.query<JobRow>(
      `SELECT id, job_key, job_type, assessment_id, status, attempts, payload FROM async_jobs
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
  ) {}

  /**
   * Claims up to `limit` due jobs for `leaseMs`: queued or retrying ones whose time has come,
   * and running ones whose worker's lease lapsed (it died mid-attempt). SKIP LOCKED lets
   * several workers claim side by side without taking the same job.
   */
  async claim<P>(worker: string, limit: number, leaseMs: number): Promise<Job<P>[]> {
    const { rows } = await this.pool.query<JobRow>(
      `UPDATE async_jobs j SET status = 'running', attempts = j.attempts + 1, locked_by = $4,
         lease_until = NOW() + make_interval(secs => $5::double precision / 1000),
         started_at = COALESCE(j.started_at, NOW()), updated_at = NOW()
       WHERE j.id IN (
         SELECT id FROM async_jobs
         WHERE scope = $1 AND job_type = $2 AND (
           (status IN ('queued', 'retrying') AND next_run_at <= NOW()) OR (status = 'running' AND lease_until < NOW()))
         ORDER BY next_run_at NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING j.id, j.job_key, j.job_type, j.assessment_id, j.status, j.attempts, j.payload`,
      [this.scope, this.jobType, limit, worker, leaseMs],
    );
    return rows.map((row) => toJob<P>(row));
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
