import type { Pool, PoolClient } from 'pg';
import type { Position } from '../../services/messaging/envelopes';
import type { MessageCodec } from '../../services/messaging/messageCodec';
import { isDatabaseUnavailable } from '../../services/platform/postgres/pool';
import type { Projection } from './projection';

/**
 * Poison events of the projections (`projection_dead_letters`, migration 0014). An event that
 * cannot be decoded, or whose `apply` fails for a reason that retrying cannot cure (bad data, a
 * constraint, a bug on this input), is set aside so the partition's other aggregates keep
 * projecting; the aggregate's later events are held behind it, in order, until a replay.
 */

export interface DeadLetter {
  id: number;
  projection: string;
  topic: string;
  partition: number;
  offset: number;
  aggregate_id: string;
  event_type: string | null;
  reason: 'poison' | 'held';
  status: 'open' | 'replayed';
  error: { name: string; message: string; code?: string };
  created_at: string;
  replayed_at: string | null;
}

/**
 * PostgreSQL error classes that say "this input, this code" rather than "this moment": data
 * exceptions (22) and integrity violations (23). Anything else from PostgreSQL (a connection lost,
 * a deadlock, a missing table after a bad deploy) is retried, never dead-lettered: it would hit
 * every event alike. Errors thrown by the projection's own code (TypeError…) follow the input.
 */
export function isPoison(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return false;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith('22') || code.startsWith('23');
  return err instanceof Error;
}

export function errorOf(err: unknown): DeadLetter['error'] {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (err as { code?: unknown } | null)?.code;
  return {
    name: error.name,
    message: error.message.slice(0, 1000),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

export interface DeadLetterEntry {
  topic: string;
  partition: number;
  offset: number;
  aggregate_id: string;
  event_type: string | null;
  reason: 'poison' | 'held';
  error: DeadLetter['error'];
  value: Buffer | null;
}

/** The aggregates among `aggregateIds` that have open dead letters in this projection (locked for share, so a replay cannot slip in between). */
export async function heldAggregates(
  client: PoolClient,
  projection: string,
  aggregateIds: string[],
): Promise<Set<string>> {
  if (aggregateIds.length === 0) return new Set();
  const { rows } = await client.query<{ aggregate_id: string }>({
    name: 'dead-letters-held',
    text: `SELECT aggregate_id FROM projection_dead_letters
           WHERE projection = $1 AND status = 'open' AND aggregate_id = ANY($2) FOR SHARE`,
    values: [projection, aggregateIds],
  });
  return new Set(rows.map((r) => r.aggregate_id));
}

export async function recordDeadLetter(client: PoolClient, projection: string, entry: DeadLetterEntry): Promise<void> {
  await client.query(
    `INSERT INTO projection_dead_letters
       (projection, topic, partition, "offset", aggregate_id, event_type, reason, error, value)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (projection, topic, partition, "offset") DO NOTHING`,
    [
      projection,
      entry.topic,
      entry.partition,
      entry.offset,
      entry.aggregate_id,
      entry.event_type,
      entry.reason,
      JSON.stringify(entry.error),
      entry.value,
    ],
  );
}

const COLUMNS = `id, projection, topic, partition, "offset", aggregate_id, event_type, reason, status, error,
  created_at, replayed_at`;

interface Row extends Omit<DeadLetter, 'id' | 'offset' | 'created_at' | 'replayed_at'> {
  id: string;
  offset: string;
  created_at: Date;
  replayed_at: Date | null;
}

const toDeadLetter = (row: Row): DeadLetter => ({
  ...row,
  id: Number(row.id),
  offset: Number(row.offset),
  created_at: row.created_at.toISOString(),
  replayed_at: row.replayed_at?.toISOString() ?? null,
});

export async function listDeadLetters(
  pool: Pool,
  filter: { projection?: string; status?: 'open' | 'replayed'; topicPrefix?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM projection_dead_letters
     WHERE ($1::text IS NULL OR projection = $1) AND ($2::text IS NULL OR status = $2)
       AND ($3::text IS NULL OR starts_with(topic, $3))
     ORDER BY projection, topic, partition, "offset" LIMIT $4`,
    [filter.projection ?? null, filter.status ?? null, filter.topicPrefix ?? null, filter.limit ?? 1000],
  );
  return rows.map(toDeadLetter);
}

export interface ReplayOutcome {
  replayed: number;
  /** Still open: failed again, or held behind one that did. */
  open: number;
  failures: { id: number; aggregate_id: string; offset: number; error: DeadLetter['error'] }[];
}

/**
 * Applies a projection's open dead letters again, aggregate by aggregate in log order, each
 * aggregate in one transaction: a letter that fails again stays open with its new error, and the
 * aggregate's later letters stay behind it. The live runner holds new events of an aggregate while
 * it has open letters, and takes the row locks this takes, so nothing is applied out of order.
 */
export async function replayDeadLetters(
  pool: Pool,
  codec: MessageCodec,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any projection's record type
  projection: Projection<any>,
  options: { topicPrefix?: string } = {},
): Promise<ReplayOutcome> {
  const { rows: aggregates } = await pool.query<{ aggregate_id: string }>(
    `SELECT DISTINCT aggregate_id FROM projection_dead_letters
     WHERE projection = $1 AND status = 'open' AND ($2::text IS NULL OR starts_with(topic, $2))`,
    [projection.name, options.topicPrefix ?? null],
  );
  const outcome: ReplayOutcome = { replayed: 0, open: 0, failures: [] };
  for (const { aggregate_id } of aggregates) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row & { value: Buffer | null }>(
        `SELECT ${COLUMNS}, value FROM projection_dead_letters
         WHERE projection = $1 AND aggregate_id = $2 AND status = 'open'
         ORDER BY topic, partition, "offset" FOR UPDATE`,
        [projection.name, aggregate_id],
      );
      let blocked = false;
      for (const row of rows) {
        if (blocked) {
          outcome.open += 1;
          continue;
        }
        await client.query('SAVEPOINT letter');
        try {
          if (!row.value) throw new Error('the dead letter has no value to replay (an empty record)');
          const { schemaId, value } = await codec.decode<Record<string, unknown>>(row.value);
          const record: Position = {
            topic: row.topic,
            partition: row.partition,
            offset: Number(row.offset),
            schema_id: schemaId,
          };
          await projection.apply(client, { ...value, ...record });
          await client.query(
            `UPDATE projection_dead_letters SET status = 'replayed', replayed_at = NOW() WHERE id = $1`,
            [row.id],
          );
          await client.query('RELEASE SAVEPOINT letter');
          outcome.replayed += 1;
        } catch (err) {
          if (!isPoison(err) && !(err instanceof SyntaxError)) throw err;
          await client.query('ROLLBACK TO SAVEPOINT letter');
          await client.query('UPDATE projection_dead_letters SET error = $2 WHERE id = $1', [
            row.id,
            JSON.stringify(errorOf(err)),
          ]);
          outcome.failures.push({ id: Number(row.id), aggregate_id, offset: Number(row.offset), error: errorOf(err) });
          outcome.open += 1;
          blocked = true;
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  return outcome;
}
