/**
 * bench/deciders/rebuild — how long a decider takes to rebuild one partition's state, from the
 * events topic alone and from a snapshot, for a partition holding BENCH_EVENTS events (100k).
 *
 *   npm run bench:rebuild
 *
 * The events are real: produced by the assessment decider (start + revisions of answers, each
 * rule-scored), wrapped in envelopes and Avro-encoded through the registry like the runtime does.
 */
import { randomUUID } from 'node:crypto';
import { assessmentContext } from '../../domain';
import { questions, respond, startCommand, student } from '../../domain/assessment/testing/fixtures';
import { idFromKey } from '../../domain/shared/ids';
import { catchUp } from '../../services/deciders/catchUp';
import { PartitionState } from '../../services/deciders/partitionState';
import { SnapshotStore } from '../../services/deciders/snapshots';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { MessageCodec } from '../../services/messaging/messageCodec';
import { loadConfig } from '../../services/platform/config';
import { ensureTopics } from '../../services/platform/kafka/admin';
import { createPlatform } from '../../services/platform/platform';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const SNAPSHOT_LAG = Number(process.env.BENCH_SNAPSHOT_LAG ?? 5000);

async function main() {
  const prefix = `bench-rebuild-${randomUUID().slice(0, 8)}`;
  const platform = await createPlatform(
    loadConfig({ ...process.env, KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' }),
    'bench-rebuild',
  );
  const topic = platform.topics.assessment.events;
  const codec = new MessageCodec(platform.codec, platform.topics);
  await ensureTopics(platform.kafkaAdmin, [{ name: topic, partitions: 1, config: {} }]);

  // 1. Fill one partition with EVENTS real events: each assessment is started, then its first
  //    question answered and revised again and again (two events per revision).
  const { decider } = assessmentContext;
  const producer = platform.kafka.producer('bench-rebuild');
  await producer.connect();
  let produced = 0;
  let assessments = 0;
  const fillStarted = performance.now();
  while (produced < EVENTS) {
    const assessmentId = idFromKey('assessment', `${prefix}-${assessments++}`);
    let state = decider.initialState();
    let version = 0;
    const batch: EventEnvelope[] = [];
    const emit = (command: Parameters<typeof decider.decide>[0]) => {
      for (const e of decider.decide(command, state)) {
        state = decider.evolve(state, e);
        batch.push({
          event_id: randomUUID(),
          aggregate_id: assessmentId,
          aggregate_type: 'assessment',
          version: ++version,
          type: e.type,
          occurred_at: command.metadata.now,
          actor: student,
          correlation_id: command.metadata.command_id,
          causation_id: command.metadata.command_id,
          data: e.data as Record<string, unknown>,
        });
      }
    };
    emit(startCommand({ assessment_id: assessmentId }));
    for (let i = 0; i < 24 && produced + batch.length < EVENTS; i++) {
      const r = respond([{ question_id: questions[0]!.question_id, answer: i % 2 ? 'kubernetes' : 'docker' }]);
      emit({ ...r, data: { ...r.data, assessment_id: assessmentId } });
    }
    const messages = await Promise.all(
      batch.map(async (e) => ({ key: e.aggregate_id, partition: 0, value: await codec.encodeEvent('assessment', e) })),
    );
    await producer.send({ topic, messages });
    produced += batch.length;
  }
  await producer.disconnect();
  const fillSeconds = (performance.now() - fillStarted) / 1000;

  // 2. Rebuild from offset zero, as a decider with no snapshot does.
  const reader = platform.kafka.partitionReader('bench-rebuild');
  await reader.connect();
  const rebuild = async (state: PartitionState) => {
    const t0 = performance.now();
    const { replayed } = await catchUp({
      admin: platform.kafkaAdmin,
      reader,
      codec,
      topic,
      partition: 0,
      state,
      openTransactionWaitMs: 30_000,
      isCancelled: () => false,
      idempotencyWindowMs: platform.config.IDEMPOTENCY_WINDOW_SECONDS * 1000,
    });
    return { replayed, ms: performance.now() - t0 };
  };
  const full = await rebuild(new PartitionState(assessmentContext));

  // 3. Snapshot at (EVENTS - SNAPSHOT_LAG), then rebuild from it: what a restart costs when
  //    the runtime snapshots every SNAPSHOT_LAG events.
  const partial = new PartitionState(assessmentContext);
  await catchUpTo(partial, EVENTS - SNAPSHOT_LAG);
  const store = new SnapshotStore(platform.pool);
  const t0 = performance.now();
  const bytes = partial.serialize();
  await store.save(assessmentContext, topic, 0, partial.nextEventsOffset, bytes);
  const saveMs = performance.now() - t0;
  const t1 = performance.now();
  const loaded = (await store.load(assessmentContext, topic, 0))!;
  const loadMs = performance.now() - t1;
  const fromSnapshot = await rebuild(loaded);

  console.log(
    `\nbench/deciders/rebuild — one partition, ${produced} events, ${assessments} assessments (filled in ${fillSeconds.toFixed(1)} s)`,
  );
  console.table([
    {
      step: 'rebuild from offset 0',
      events: full.replayed,
      ms: Math.round(full.ms),
      events_per_s: Math.round(full.replayed / (full.ms / 1000)),
    },
    {
      step: `snapshot save (${(bytes.length / 1024 / 1024).toFixed(1)} MiB gzip)`,
      events: 0,
      ms: Math.round(saveMs),
      events_per_s: 0,
    },
    { step: 'snapshot load', events: 0, ms: Math.round(loadMs), events_per_s: 0 },
    {
      step: `rebuild from snapshot (+${fromSnapshot.replayed} events)`,
      events: fromSnapshot.replayed,
      ms: Math.round(loadMs + fromSnapshot.ms),
      events_per_s: Math.round(fromSnapshot.replayed / (fromSnapshot.ms / 1000)),
    },
  ]);
  const same = JSON.stringify([...loaded.aggregates]) === JSON.stringify([...(await fullState())]);
  console.log(`state from snapshot + tail equals state from offset 0: ${same}`);

  async function fullState() {
    const s = new PartitionState(assessmentContext);
    await catchUpTo(s, Number.MAX_SAFE_INTEGER);
    return s.aggregates;
  }
  async function catchUpTo(state: PartitionState, offset: number) {
    reader.assign([{ topic, partition: 0, offset: 0 }]);
    for (;;) {
      const messages = await reader.consume(2000);
      if (messages.length === 0) break;
      for (const m of messages) {
        if (m.offset >= offset) continue;
        const { schemaId, value } = await codec.decode<EventEnvelope>(m.value!);
        state.replay({ ...value, topic, partition: 0, offset: m.offset, schema_id: schemaId }, m.timestamp);
      }
      if ((reader.position(topic, 0) ?? 0) >= Math.min(offset, produced)) break;
    }
    reader.unassign();
  }

  await reader.disconnect();
  await platform.pool.query('DELETE FROM decider_snapshots WHERE topic = $1', [topic]);
  await platform.kafkaAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await platform.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
