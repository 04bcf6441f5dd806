import { hostname } from 'node:os';
import { Client, type Pool } from 'pg';
import { AppError } from '../../../services/platform/errors';

/**
 * The record of every rebuild (`projection_rebuilds`, migration 0015) and the locks that keep two
 * rebuilds of one projection apart: a PostgreSQL advisory lock per projection name, held by the
 * rebuilding process's own session for as long as it runs. A crashed process's session ends with
 * it, so its locks go too: a 'running' row nobody holds the locks of is an interrupted rebuild.
 */

export type RebuildStatus = 'running' | 'swapped' | 'failed' | 'cancelled';
export type RebuildPhase = 'preparing' | 'replaying' | 'indexing' | 'swapping' | 'done';

export interface RebuildRecord {
  id: string;
  projections: string[];
  topic_prefix: string;
  shadow_schema: string;
  /** `interrupted`: 'running' in the table, but no process holds it (it died, or was stopped). */
  status: RebuildStatus | 'interrupted';
  phase: RebuildPhase;
  events_applied: number;
  offsets_done: number;
  offsets_total: number;
  requested_by: string | null;
  runner: string | null;
  error: string | null;
  warnings: string[];
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
}

/** A refusal or failure of a rebuild operation, with the HTTP status the admin API answers. */
export class RebuildError extends AppError {}

export const rebuildErrors = {
  unknownProjection: (name: string, known: readonly string[]) =>
    new RebuildError('PROJECTION_NOT_FOUND', `unknown projection "${name}"; known: ${known.join(', ')}`, 404),
  notRebuildable: (name: string, why: string) =>
    new RebuildError('PROJECTION_NOT_REBUILDABLE', `projection ${name} cannot be rebuilt: ${why}`, 409),
  running: (record: Pick<RebuildRecord, 'id' | 'projections' | 'runner'>, name: string) =>
    new RebuildError(
      'REBUILD_RUNNING',
      `a rebuild of ${name} is already running (rebuild ${record.id}${record.runner ? `, in ${record.runner}` : ''})`,
      409,
      { rebuild_id: record.id },
    ),
  interrupted: (record: Pick<RebuildRecord, 'id'>, name: string) =>
    new RebuildError(
      'REBUILD_INTERRUPTED',
      `an interrupted rebuild of ${name} exists (rebuild ${record.id}): resume it or abandon it first`,
      409,
      { rebuild_id: record.id },
    ),
  notFound: (id: string) => new RebuildError('REBUILD_NOT_FOUND', `no rebuild ${id}`, 404),
  finished: (record: Pick<RebuildRecord, 'id' | 'status'>) =>
    new RebuildError('REBUILD_FINISHED', `rebuild ${record.id} is ${record.status}; nothing to do`, 409, {
      rebuild_id: record.id,
    }),
  refused: (message: string) => new RebuildError('REBUILD_REFUSED', message, 409),
};

/** Namespace of the advisory locks (first key): "mcrb". */
const LOCK_NAMESPACE = 0x6d637262;

/** This process, as named in `runner`. */
export const thisRunner = (): string => `${hostname()}:${process.pid}`;

interface Row extends Omit<RebuildRecord, 'status' | 'events_applied' | 'offsets_done' | 'offsets_total'> {
  status: RebuildStatus;
  events_applied: string;
  offsets_done: string;
  offsets_total: string;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  held: boolean;
}

const COLUMNS = `id, projections, topic_prefix, shadow_schema, status, phase, events_applied, offsets_done, offsets_total,
  requested_by, runner, error, warnings, to_json(started_at) #>> '{}' AS started_at,
  to_json(heartbeat_at) #>> '{}' AS heartbeat_at, to_json(finished_at) #>> '{}' AS finished_at`;

/** Whether a process holds the lock of any of the row's projections (pg_locks, this database). */
const HELD = `EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LOCK_NAMESPACE}::oid AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.objid = ANY (SELECT hashtext(p)::oid FROM unnest(r.projections) AS p)) AS held`;

function toRecord(row: Row): RebuildRecord {
  const { held, ...rest } = row;
  return {
    ...rest,
    status: row.status === 'running' && !held ? 'interrupted' : row.status,
    events_applied: Number(row.events_applied),
    offsets_done: Number(row.offsets_done),
    offsets_total: Number(row.offsets_total),
    started_at: new Date(row.started_at).toISOString(),
    heartbeat_at: new Date(row.heartbeat_at).toISOString(),
    finished_at: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}

export async function findRebuild(pool: Pool, id: string): Promise<RebuildRecord | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const { rows } = await pool.query<Row>(`SELECT ${COLUMNS}, ${HELD} FROM projection_rebuilds r WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** This system's rebuilds, newest first. */
export async function listRebuilds(pool: Pool, topicPrefix: string, limit = 20): Promise<RebuildRecord[]> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS}, ${HELD} FROM projection_rebuilds r WHERE topic_prefix = $1 ORDER BY started_at DESC LIMIT $2`,
    [topicPrefix, limit],
  );
  return rows.map(toRecord);
}

/** Running (or interrupted) rebuilds of any of these projections, in this database. */
export async function unfinishedRebuilds(pool: Pool, projections: readonly string[]): Promise<RebuildRecord[]> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS}, ${HELD} FROM projection_rebuilds r WHERE status = 'running' AND projections && $1::text[]
     ORDER BY started_at`,
    [projections],
  );
  return rows.map(toRecord);
}

/**
 * The locks of a running rebuild: one session of its own (not a pool's: the locks live as long as
 * the session), which also writes the rebuild's progress. Lost session, lost locks: `lost` fires
 * and the rebuild must stop.
 */
export class RebuildSession {
  private constructor(
    private readonly client: Client,
    readonly projections: readonly string[],
    readonly lost: Promise<Error>,
  ) {}

  /** Takes every projection's lock, or none: undefined names a projection whose lock is held. */
  static async acquire(
    connectionString: string,
    projections: readonly string[],
  ): Promise<RebuildSession | { held: string }> {
    const client = new Client({ connectionString, application_name: 'microcred-rebuild' });
    const lost = new Promise<Error>((resolve) => {
      client.on('error', (err) => resolve(err));
      client.on('end', () => resolve(new Error('the rebuild lost its PostgreSQL session (and its locks)')));
    });
    await client.connect();
    const taken: string[] = [];
    for (const name of [...projections].sort()) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
        LOCK_NAMESPACE,
        name,
      ]);
      if (!rows[0]!.ok) {
        await client.end().catch(() => undefined);
        return { held: name };
      }
      taken.push(name);
    }
    return new RebuildSession(client, taken, lost);
  }

  query<R extends object>(text: string, values: unknown[]): Promise<{ rows: R[] }> {
    return this.client.query<R>(text, values);
  }

  /** Ends the session, which releases the locks. */
  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

export async function insertRebuild(
  session: RebuildSession,
  record: Pick<RebuildRecord, 'id' | 'projections' | 'topic_prefix' | 'shadow_schema' | 'requested_by'>,
): Promise<void> {
  await session.query(
    `INSERT INTO projection_rebuilds (id, projections, topic_prefix, shadow_schema, requested_by, runner)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [record.id, record.projections, record.topic_prefix, record.shadow_schema, record.requested_by, thisRunner()],
  );
}

export async function claimRebuild(session: RebuildSession, id: string): Promise<void> {
  await session.query(`UPDATE projection_rebuilds SET runner = $2, error = NULL, heartbeat_at = NOW() WHERE id = $1`, [
    id,
    thisRunner(),
  ]);
}

export interface RebuildProgress {
  phase: RebuildPhase;
  events_applied: number;
  offsets_done: number;
  offsets_total: number;
}

export async function recordProgress(session: RebuildSession, id: string, progress: RebuildProgress): Promise<void> {
  await session.query(
    `UPDATE projection_rebuilds SET phase = $2, events_applied = $3, offsets_done = $4, offsets_total = $5,
       heartbeat_at = NOW() WHERE id = $1 AND status = 'running'`,
    [id, progress.phase, progress.events_applied, progress.offsets_done, progress.offsets_total],
  );
}

/** The reason a rebuild stopped short (it stays 'running': resumable). */
export async function recordStop(session: RebuildSession, id: string, error: string): Promise<void> {
  await session.query(`UPDATE projection_rebuilds SET error = $2, heartbeat_at = NOW() WHERE id = $1`, [
    id,
    error.slice(0, 2000),
  ]);
}

/** A rebuild that cannot go on ('failed') or was abandoned ('cancelled'): its shadow is gone. */
export async function finishRebuild(
  db: { query(text: string, values: unknown[]): Promise<unknown> },
  id: string,
  status: 'failed' | 'cancelled',
  error: string | null,
): Promise<void> {
  await db.query(
    `UPDATE projection_rebuilds SET status = $2, error = $3, finished_at = NOW(), heartbeat_at = NOW() WHERE id = $1`,
    [id, status, error?.slice(0, 2000) ?? null],
  );
}

export async function recordWarnings(session: RebuildSession, id: string, warnings: string[]): Promise<void> {
  if (warnings.length === 0) return;
  await session.query(`UPDATE projection_rebuilds SET warnings = warnings || $2::jsonb WHERE id = $1`, [
    id,
    JSON.stringify(warnings),
  ]);
}
