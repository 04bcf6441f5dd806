import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { EventEnvelope, StoredEvent } from '../../services/messaging/envelopes';
import { processMetrics } from '../../services/platform/metrics';
import { cli } from '../../services/replay/testing/cliRun';
import { eventually } from '../../test/support/platform';
import { at, createTestbed, type Testbed } from '../audit/testing/testbed';
import { listDeadLetters, replayDeadLetters } from './deadLetters';
import type { Projection } from './projection';

jest.setTimeout(120_000);

/**
 * Poison events on the real stack: an undecodable record and an event whose apply fails are set
 * aside (table and dead-letter topic), the aggregate's later events are held behind them, the
 * partition's other aggregates still project, and a replay after the fix applies them in order.
 */
let bed: Testbed;
/** Event ids the projection cannot apply (the "bug"), until the test fixes it. */
const broken = new Set<string>();

const probe: Projection = {
  name: `dead-letter-probe-${randomUUID().slice(0, 8)}`,
  topics: (topics) => [topics.identity.events],
  tables: ['dead_letter_probe'],
  async apply(client: PoolClient, event: StoredEvent) {
    if (broken.has(event.event_id)) throw new TypeError(`cannot read property of event ${event.event_id}`);
    await client.query('INSERT INTO dead_letter_probe (aggregate_id, event_id, version) VALUES ($1, $2, $3)', [
      event.aggregate_id,
      event.event_id,
      event.version,
    ]);
  },
};

function event(aggregateId: string, version: number): EventEnvelope {
  return {
    event_id: randomUUID(),
    aggregate_id: aggregateId,
    aggregate_type: 'user',
    version,
    type: 'UserDisabled',
    occurred_at: at(version),
    actor: { id: 'system:test', role: 'system' },
    correlation_id: randomUUID(),
    causation_id: null,
    data: { user_id: aggregateId, reason: null, disabled_at: at(version) },
  };
}

/** Everything on partition 0, in this order, so one partition holds every case. */
async function produce(items: (EventEnvelope | { garbage: string })[]): Promise<void> {
  const producer = bed.platform.kafka.producer('dead-letter-spec');
  await producer.connect();
  try {
    const messages = [];
    for (const item of items) {
      messages.push(
        'garbage' in item
          ? { key: item.garbage, value: Buffer.from('not an avro record at all'), partition: 0 }
          : { key: item.aggregate_id, value: await bed.codec.encodeEvent('identity', item), partition: 0 },
      );
    }
    await producer.send({ topic: bed.platform.topics.identity.events, messages });
  } finally {
    await producer.disconnect();
  }
}

async function rows(): Promise<{ aggregate_id: string; version: number }[]> {
  const { rows } = await bed.platform.pool.query<{ aggregate_id: string; version: number }>(
    'SELECT aggregate_id, version FROM dead_letter_probe ORDER BY id',
  );
  return rows;
}

async function deadLetterTopic(): Promise<{ key: string; headers: Record<string, string> }[]> {
  const reader = bed.platform.kafka.partitionReader(`dead-letter-spec-${randomUUID().slice(0, 8)}`);
  await reader.connect();
  try {
    const found: { key: string; headers: Record<string, string> }[] = [];
    const topic = bed.platform.topics.deadLetter;
    const partitions = bed.platform.config.KAFKA_PARTITIONS;
    reader.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
    for (let empty = 0; empty < 5;) {
      const batch = await reader.consume(500);
      if (batch.length === 0) empty += 1;
      for (const m of batch) {
        found.push({
          key: m.key?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString()])),
        });
      }
    }
    return found;
  } finally {
    await reader.disconnect();
  }
}

beforeAll(async () => {
  bed = await createTestbed();
  await bed.platform.pool.query(
    `CREATE TABLE dead_letter_probe (id BIGSERIAL PRIMARY KEY, aggregate_id TEXT NOT NULL, event_id UUID NOT NULL UNIQUE,
       version INTEGER NOT NULL)`,
  );
});

afterAll(async () => {
  await bed?.close();
});

test('poison events are set aside with their aggregate; the rest of the partition projects; a replay after the fix applies them in order', async () => {
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const a1 = event(a, 1);
  const a2 = event(a, 2);
  const b1 = event(b, 1);
  const b2 = event(b, 2);
  const b3 = event(b, 3);
  const c1 = event(c, 1);
  broken.add(b2.event_id);
  const counter = async () =>
    (await processMetrics().projectionEvents.get()).values.find(
      (v) => v.labels.projection === probe.name && v.labels.outcome === 'dead_lettered',
    )?.value ?? 0;
  const before = await counter();

  await produce([a1, { garbage: a }, a2, b1, b2, b3, c1]);
  await bed.startRunner(probe);
  await bed.caughtUp(probe);

  // The partition moved on: a before its poison, b before its poison, and all of c.
  expect(await rows()).toEqual([
    { aggregate_id: a, version: 1 },
    { aggregate_id: b, version: 1 },
    { aggregate_id: c, version: 1 },
  ]);
  const letters = await listDeadLetters(bed.platform.pool, { projection: probe.name });
  expect(letters.map((l) => [l.aggregate_id, l.offset, l.reason, l.status])).toEqual([
    [a, 1, 'poison', 'open'],
    [a, 2, 'held', 'open'],
    [b, 4, 'poison', 'open'],
    [b, 5, 'held', 'open'],
  ]);
  expect(letters[0]!.event_type).toBeNull();
  expect(letters[2]!.event_type).toBe('UserDisabled');
  expect(letters[2]!.error).toMatchObject({
    name: 'TypeError',
    message: `cannot read property of event ${b2.event_id}`,
  });
  expect((await counter()) - before).toBe(4);

  // The dead-letter topic carries the same four, with their context.
  const topic = await eventually(async () => {
    const found = (await deadLetterTopic()).filter((m) => m.headers.projection === probe.name);
    return found.length >= 4 ? found : undefined;
  });
  const byOffset = topic.sort((x, y) => Number(x.headers.source_offset) - Number(y.headers.source_offset));
  expect(byOffset.map((m) => [m.headers.source_offset, m.headers.reason, m.key])).toEqual([
    ['1', 'poison', a],
    ['2', 'held', a],
    ['4', 'poison', b],
    ['5', 'held', b],
  ]);
  expect(byOffset[2]!.headers.error).toContain('TypeError');

  // A new event of a held aggregate waits too; one of another aggregate does not.
  const b4 = event(b, 4);
  const c2 = event(c, 2);
  await produce([b4, c2]);
  await bed.caughtUp(probe);
  expect((await rows()).filter((r) => r.aggregate_id === c)).toHaveLength(2);
  expect((await rows()).filter((r) => r.aggregate_id === b)).toHaveLength(1);

  // The operator lists them through the CLI (this system's letters only).
  const env = {
    KAFKA_TOPIC_PREFIX: bed.platform.config.KAFKA_TOPIC_PREFIX,
    DATABASE_URL: bed.platform.config.DATABASE_URL,
  };
  const listed = await cli(env, 'deadletters', 'list', '--json');
  expect(listed.code).toBe(0);
  const fromCli = (JSON.parse(listed.stdout) as { dead_letters: { projection: string }[] }).dead_letters;
  expect(fromCli.filter((l) => l.projection === probe.name)).toHaveLength(5);

  // The bug is fixed: b's letters apply in log order; a's undecodable record still cannot be, so
  // it and the event behind it stay open.
  broken.clear();
  await bed.stopRunners();
  const outcome = await replayDeadLetters(bed.platform.pool, bed.codec, probe);
  expect(outcome.replayed).toBe(3);
  expect(outcome.open).toBe(2);
  expect(outcome.failures.map((f) => [f.aggregate_id, f.offset])).toEqual([[a, 1]]);
  expect((await rows()).filter((r) => r.aggregate_id === b).map((r) => r.version)).toEqual([1, 2, 3, 4]);
  const open = await listDeadLetters(bed.platform.pool, { projection: probe.name, status: 'open' });
  expect(open.map((l) => l.aggregate_id)).toEqual([a, a]);

  // With b's letters replayed, b's next event is applied live again.
  await bed.startRunner(probe);
  const b5 = event(b, 5);
  await produce([b5]);
  await bed.caughtUp(probe);
  expect((await rows()).filter((r) => r.aggregate_id === b).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
});

test('the CLI refuses an unknown projection with a one-line message', async () => {
  const run = await cli(
    { KAFKA_TOPIC_PREFIX: bed.platform.config.KAFKA_TOPIC_PREFIX, DATABASE_URL: bed.platform.config.DATABASE_URL },
    'deadletters',
    'replay',
    '--projection',
    'no-such-projection',
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^microcred: no projection named "no-such-projection"; known: /);
});
