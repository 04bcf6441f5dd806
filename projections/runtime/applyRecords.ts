import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { Position } from '../../services/messaging/envelopes';
import type { MessageCodec } from '../../services/messaging/messageCodec';
import type { ReadMessage } from '../../services/platform/kafka/kafka';
import { errorOf, heldAggregates, isPoison, recordDeadLetter, type DeadLetterEntry } from './deadLetters';
import type { Projection } from './projection';

/**
 * One partition's records applied to a projection inside the caller's transaction, with the
 * projection's offset row and its dead letters: poison events set aside, later events of their
 * aggregate held behind them, an offset never moving back. ProjectionRunner's batches and a
 * rebuild's (projections/runtime/rebuild) both go through here; the tables, `projection_offsets`
 * and `projection_dead_letters` are whichever the transaction's search_path names first (a
 * rebuild's shadow schema, else `public`).
 */

/** A consumed record: decoded once (for every projection that reads it), or kept as it came. */
export interface DecodedRecord {
  offset: number;
  key: string | null;
  raw: Buffer;
  event?: Record<string, unknown> & Position & { type?: unknown; aggregate_id?: unknown };
  undecodable?: unknown;
}

/** Decodes a partition's messages; a record the registry cannot describe is kept as undecodable (a poison event). */
export async function decodeRecords(
  codec: MessageCodec,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any projection's record type
  projection: Projection<any> | undefined,
  messages: readonly ReadMessage[],
): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for (const m of messages) {
    if (!m.value) continue;
    const key = m.key == null ? null : String(m.key);
    const position = { topic: m.topic, partition: m.partition, offset: m.offset };
    try {
      const { schemaId, value } = projection?.decode
        ? await projection.decode({ ...position, key, value: m.value, headers: m.headers })
        : await codec.decode<Record<string, unknown>>(m.value);
      out.push({ offset: m.offset, key, raw: m.value, event: { ...value, ...position, schema_id: schemaId } });
    } catch (err) {
      // The registry being unreachable is a moment, not a poison event: the batch is retried.
      if (isRegistryUnavailable(err)) throw err;
      out.push({ offset: m.offset, key, raw: m.value, undecodable: err });
    }
  }
  return out;
}

export interface ApplyOutcome {
  applied: number;
  letters: DeadLetterEntry[];
}

/**
 * Applies `records` (one partition, in offset order) that the projection has not applied yet and
 * moves its offset to `next`. With `isolate`, each event runs under a savepoint, and one that fails
 * for a poison reason is dead-lettered instead of failing the transaction.
 */
export async function applyRecords(
  client: PoolClient,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any projection's record type
  projection: Projection<any>,
  topic: string,
  partition: number,
  records: readonly DecodedRecord[],
  next: number,
  isolate: boolean,
): Promise<ApplyOutcome> {
  const name = projection.name;
  const prepared = preparing(client);
  // Lock the offset row: a second runner that briefly overlaps during a rebalance waits here,
  // then sees the batch is already applied and skips it.
  const current = await lockOffset(client, name, topic, partition);
  if (next <= current) return { applied: 0, letters: [] };
  const fresh = records.filter((r) => r.offset >= current);
  const held = await heldAggregates(client, name, [...new Set(fresh.map(aggregateOf))]);
  const letters: DeadLetterEntry[] = [];
  const setAside = (r: DecodedRecord, reason: 'poison' | 'held', err: unknown) => {
    const aggregateId = aggregateOf(r);
    held.add(aggregateId);
    letters.push({
      topic,
      partition,
      offset: r.offset,
      aggregate_id: aggregateId,
      event_type: typeof r.event?.type === 'string' ? r.event.type : null,
      reason,
      error: errorOf(err),
      value: r.raw,
    });
  };
  let applied = 0;
  for (const r of fresh) {
    if (!r.event) {
      setAside(r, 'poison', r.undecodable);
      continue;
    }
    if (held.has(aggregateOf(r))) {
      setAside(r, 'held', new Error('held behind an earlier dead-lettered event of the same aggregate'));
      continue;
    }
    if (!isolate) {
      await projection.apply(prepared, r.event);
      applied += 1;
      continue;
    }
    await client.query('SAVEPOINT projection_event');
    try {
      await projection.apply(prepared, r.event);
      await client.query('RELEASE SAVEPOINT projection_event');
      applied += 1;
    } catch (err) {
      if (!isPoison(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT projection_event');
      setAside(r, 'poison', err);
    }
  }
  for (const letter of letters) await recordDeadLetter(client, name, letter);
  await client.query({
    name: 'projection-offset-store',
    text: `UPDATE projection_offsets SET next_offset = GREATEST(next_offset, $4), updated_at = NOW()
           WHERE projection = $1 AND topic = $2 AND partition = $3`,
    values: [name, topic, partition, next],
  });
  return { applied, letters };
}

/**
 * The client, with every parameterised query a projection sends turned into a named prepared
 * statement (named by its text's digest): PostgreSQL parses and plans each statement once per
 * connection instead of once per event, which is a good share of a replay's time.
 */
function preparing(client: PoolClient): PoolClient {
  const query = (text: unknown, values?: unknown) => {
    const name = typeof text === 'string' && Array.isArray(values) ? statementName(text) : undefined;
    return name
      ? client.query({ name, text: text as string, values: values as unknown[] })
      : (client.query as (a: unknown, b?: unknown) => Promise<unknown>)(text, values);
  };
  return new Proxy(client, {
    get: (target, property, receiver) => (property === 'query' ? query : Reflect.get(target, property, receiver)),
  });
}

/** Statement texts named so far. Past the cap (a projection building texts on the fly), the rest stay unnamed. */
const names = new Map<string, string>();
const MAX_NAMED = 500;

function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (!name && names.size < MAX_NAMED) {
    name = `projection-${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

async function lockOffset(client: PoolClient, projection: string, topic: string, partition: number): Promise<number> {
  const lock = () =>
    client.query<{ next_offset: string }>({
      name: 'projection-offset-lock',
      text: 'SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
      values: [projection, topic, partition],
    });
  let { rows } = await lock();
  if (!rows[0]) {
    // The partition's first batch: create its row (an overlapping runner may be doing the same).
    await client.query(
      `INSERT INTO projection_offsets (projection, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`,
      [projection, topic, partition],
    );
    ({ rows } = await lock());
  }
  return Number(rows[0]!.next_offset);
}

/** The stream an event belongs to (the envelope's aggregate id, else the record key). */
function aggregateOf(r: DecodedRecord): string {
  const id = r.event?.aggregate_id;
  return typeof id === 'string' ? id : (r.key ?? `offset:${r.offset}`);
}

/** The registry could not be asked (down, timing out): retry, unlike a record that cannot be decoded. */
export function isRegistryUnavailable(err: unknown): boolean {
  const { code, status, message } = (err ?? {}) as { code?: unknown; status?: unknown; message?: unknown };
  if (typeof status === 'number') return status >= 500 || status === 429;
  if (typeof code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR)/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|socket hang up|fetch failed|timed? ?out|network/i.test(String(message ?? ''));
}
