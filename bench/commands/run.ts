/**
 * bench/commands — HTTP command throughput and latency of microcred, next to the raw Kafka
 * request/reply round trip on the same stack (the floor any Kafka-backed write path pays).
 *
 *   npm run bench:commands                   # defaults below
 *   BENCH_STUDENTS=100 BENCH_CONCURRENCY=32 npm run bench:commands
 *
 * The service runs as its own OS process (node dist/services/main.js, all roles, its own topic
 * prefix); this process is the load: simulated students start an assessment, answer every
 * question one request at a time, and submit. Prints throughput and p50/p95/p99 per phase.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../services/platform/config';
import { ensureTopics } from '../../services/platform/kafka/admin';
import { inTransaction } from '../../services/platform/kafka/transactions';
import { createPlatform } from '../../services/platform/platform';
import {
  answerFor,
  demoRoles,
  pool,
  registerStudents,
  startBenchService,
  summarize,
  waitUntil,
  type Json,
} from '../support/service';

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 60);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 24);
const FLOOR_REQUESTS = Number(process.env.BENCH_FLOOR_REQUESTS ?? 3000);

async function main() {
  // BENCH_SPLIT=1: the deciders in a process of their own, the API and projections in another.
  const split = process.env.BENCH_SPLIT === '1';
  // BENCH_PROFILE=dir: each service process writes a V8 CPU profile there when it stops.
  const profileFlags = (instance: string) =>
    process.env.BENCH_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${instance}.cpuprofile`]
      : [];
  const service = await startBenchService({
    nodeFlags: profileFlags,
    processes: split
      ? [
          { roles: 'api,projections', instance: 'api' },
          { roles: 'deciders', instance: 'deciders' },
        ]
      : [{ roles: 'api,deciders,projections', instance: 'all' }],
  });
  const { env, http } = service;
  try {
    const students = await registerStudents(service, STUDENTS);
    const roles = await demoRoles(service, students[0]!);

    // The load: every student's whole assessment, CONCURRENCY students at a time.
    const lat: Record<'start' | 'answer' | 'submit', number[]> = { start: [], answer: [], submit: [] };
    const failures: string[] = [];
    const timed = async (
      kind: keyof typeof lat,
      call: () => Promise<{ status: number; body: Json }>,
      expected: number,
    ) => {
      const t0 = performance.now();
      const res = await call();
      lat[kind].push(performance.now() - t0);
      if (res.status !== expected) failures.push(`${kind}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      return res;
    };
    const started = performance.now();
    let next = 0;
    await pool(STUDENTS, CONCURRENCY, async () => {
      const token = students[next++]!;
      const role = roles[next % roles.length]!;
      const start = await timed(
        'start',
        () => http('POST', '/assessments/start', { role_id: role.role_id }, token),
        201,
      );
      if (start.status !== 201) return;
      const questions = start.body.questions as Json[];
      const id = start.body.assessment_id as string;
      for (const q of questions.slice(0, -1)) {
        await timed(
          'answer',
          () =>
            http(
              'POST',
              `/assessments/${id}/responses`,
              { responses: [{ question_id: q.question_id, answer: answerFor(q) }] },
              token,
            ),
          202,
        );
      }
      const last = questions[questions.length - 1]!;
      await timed(
        'submit',
        () =>
          http(
            'POST',
            `/assessments/${id}/responses`,
            { completed: true, responses: [{ question_id: last.question_id, answer: answerFor(last) }] },
            token,
          ),
        202,
      );
    });
    const seconds = (performance.now() - started) / 1000;
    const all = [...lat.start, ...lat.answer, ...lat.submit];

    const floor = await kafkaFloor(env, CONCURRENCY);
    const total = summarize('all commands (HTTP)', all, seconds);
    const rows = [
      summarize('start', lat.start, seconds),
      summarize('answer', lat.answer, seconds),
      summarize('submit', lat.submit, seconds),
      total,
      floor,
    ];
    console.log(
      `\nbench/commands — ${STUDENTS} students, ${CONCURRENCY} at a time, ${seconds.toFixed(1)} s, failures: ${failures.length}`,
    );
    console.table(rows);
    console.log(
      `ratio to the Kafka request/reply floor: throughput ${(total.per_second / floor.per_second).toFixed(2)}×, p50 ${(total.p50_ms / floor.p50_ms).toFixed(2)}×, p95 ${(total.p95_ms / floor.p95_ms).toFixed(2)}×`,
    );
    console.log(
      `target: ≥ 500 commands/s with p95 < 50 ms → ${total.per_second >= 500 && total.p95_ms < 50 ? 'met' : 'NOT met'}`,
    );
    if (failures.length) console.log('first failures:', failures.slice(0, 5));
  } finally {
    await service.stop();
  }
}

/**
 * The floor: one Kafka request/reply round trip through the same kind of machinery — an
 * idempotent producer to a requests topic, a read_committed group consumer answering each
 * batch in one transaction with its offsets, and a reader following the replies topic.
 */
async function kafkaFloor(env: NodeJS.ProcessEnv, concurrency: number) {
  const platform = await createPlatform(loadConfig({ ...env, INSTANCE_ID: `${env.INSTANCE_ID}-floor` }), 'bench-floor');
  const requests = `${env.KAFKA_TOPIC_PREFIX}.floor.requests`;
  const replies = `${env.KAFKA_TOPIC_PREFIX}.floor.replies`;
  await ensureTopics(platform.kafkaAdmin, [
    { name: requests, partitions: platform.config.KAFKA_PARTITIONS, config: {} },
    { name: replies, partitions: platform.config.KAFKA_PARTITIONS, config: {} },
  ]);
  const consumer = platform.kafka.consumer(`${env.KAFKA_CLIENT_ID}-floor`, { maxBatchSize: 100 });
  const tx = platform.kafka.transactionalProducer(`${env.KAFKA_CLIENT_ID}-floor-echo`);
  const producer = platform.kafka.producer('floor');
  const reader = platform.kafka.partitionReader('floor');
  await Promise.all([consumer.connect(), tx.connect(), producer.connect(), reader.connect()]);
  await consumer.subscribe({ topics: [requests] });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const last = batch.messages[batch.messages.length - 1]!;
      await inTransaction(
        tx,
        (t) =>
          t.send({
            topic: replies,
            messages: batch.messages.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })),
          }),
        {
          consumer,
          consumed: [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }],
        },
      );
    },
  });
  reader.assign(
    Array.from({ length: platform.config.KAFKA_PARTITIONS }, (_, partition) => ({
      topic: replies,
      partition,
      offset: -1,
    })),
  );
  const waiting = new Map<string, () => void>();
  let running = true;
  const loop = (async () => {
    while (running) for (const m of await reader.consume(500)) waiting.get(m.key!.toString())?.();
  })();
  // Warm up: wait until the group owns the partitions and one round trip succeeds.
  await waitUntil(
    async () => {
      const key = randomUUID();
      const done = new Promise<boolean>((r) => {
        waiting.set(key, () => r(true));
        setTimeout(() => r(false), 2000);
      });
      await producer.send({ topic: requests, messages: [{ key, value: 'warm' }] });
      return done;
    },
    60_000,
    'the floor echo to answer',
  );
  const latencies: number[] = [];
  const started = performance.now();
  await pool(FLOOR_REQUESTS, concurrency, async () => {
    const key = randomUUID();
    const t0 = performance.now();
    const answered = new Promise<void>((r) => waiting.set(key, r));
    await producer.send({ topic: requests, messages: [{ key, value: randomBytes(300) }] });
    await answered;
    waiting.delete(key);
    latencies.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await loop;
  await Promise.allSettled([consumer.disconnect(), tx.disconnect(), producer.disconnect(), reader.disconnect()]);
  await platform.kafkaAdmin.deleteTopics({ topics: [requests, replies] }).catch(() => undefined);
  await platform.close();
  return summarize('floor: Kafka request/reply (transactional echo)', latencies, seconds);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
