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
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '../../services/platform/config';
import { ensureTopics } from '../../services/platform/kafka/admin';
import { inTransaction } from '../../services/platform/kafka/transactions';
import { createPlatform } from '../../services/platform/platform';
import { repoPath } from '../../services/platform/paths';

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 60);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 24);
const FLOOR_REQUESTS = Number(process.env.BENCH_FLOOR_REQUESTS ?? 3000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function summarize(name: string, latencies: number[], seconds: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    per_second: Math.round(latencies.length / seconds),
    p50_ms: +percentile(sorted, 50).toFixed(1),
    p95_ms: +percentile(sorted, 95).toFixed(1),
    p99_ms: +percentile(sorted, 99).toFixed(1),
  };
}

async function main() {
  const id = randomUUID().slice(0, 8);
  const port = 3900 + Math.floor(Math.random() * 90);
  const env = {
    ...process.env,
    KAFKA_TOPIC_PREFIX: `bench-${id}`,
    KAFKA_CLIENT_ID: `bench-${id}`,
    INSTANCE_ID: `bench-${id}`,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    BCRYPT_COST: '8',
    RATE_LIMIT_PER_MINUTE: '100000',
    BOOTSTRAP_ADMIN_EMAIL: `admin-${id}@bench.local`,
    BOOTSTRAP_ADMIN_PASSWORD: `Adm1n-${randomBytes(10).toString('hex')}`,
  };
  const base = `http://127.0.0.1:${port}`;
  // BENCH_SPLIT=1: the deciders in a process of their own, the API and projections in another.
  const split = process.env.BENCH_SPLIT === '1';
  // BENCH_PROFILE=dir: each service process writes a V8 CPU profile there when it stops.
  const profileFlags = (instance: string) =>
    process.env.BENCH_PROFILE
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${instance}.cpuprofile`]
      : [];
  const launch = (roles: string, instance: string) =>
    spawn(process.execPath, [...profileFlags(instance), repoPath('dist', 'services', 'main.js')], {
      env: { ...env, ROLES: roles, INSTANCE_ID: `${env.INSTANCE_ID}-${instance}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const servers = split
    ? [launch('api,projections', 'api'), launch('deciders', 'deciders')]
    : [launch('api,deciders,projections', 'all')];
  const stopServer = () =>
    Promise.all(
      servers.map(
        (s) => new Promise<void>((r) => (s.exitCode !== null ? r() : (s.once('exit', () => r()), s.kill('SIGTERM')))),
      ),
    );
  try {
    await waitUntil(
      async () => {
        if (servers.some((p) => p.exitCode !== null))
          throw new Error('the service exited during start (see its output above)');
        return (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
      },
      120_000,
      'the service to be ready',
    );
    // Demo catalog through the CLI, exactly as npm start does.
    await new Promise<void>((resolve, reject) => {
      const cli = spawn(process.execPath, [repoPath('dist', 'services', 'cli', 'main.js'), 'demo-catalog'], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      cli.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`demo catalog exited ${code}`))));
    });
    const http = async (method: string, path: string, body?: unknown, token?: string) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
    };

    // Students (setup, not measured).
    const students: string[] = [];
    await pool(STUDENTS, 8, async () => {
      const email = `s-${randomUUID().slice(0, 12)}@bench.local`;
      const password = `Bench-${randomBytes(8).toString('hex')}1`;
      let reg = await http('POST', '/auth/register', { email, password });
      for (let i = 0; i < 5 && reg.status === 202; i++) reg = await http('POST', '/auth/register', { email, password });
      if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
      const tok = await http('POST', '/auth/token', { email, password });
      students.push(tok.body.access_token);
    });
    // The demo roles (the shared read model may also list roles other runs created).
    const roles = ((await http('GET', '/catalog/roles', undefined, students[0])).body.items as Json[]).filter(
      (r) => r.question_count >= 8,
    );

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
    await stopServer();
  }
}

/** A plausible valid answer from the public question snapshot. */
function answerFor(q: Json): unknown {
  const choices = (q.choices as string[] | null) ?? [];
  if (q.type === 'multiple_choice') return q.rubric.select === 'multiple' ? { selected: [choices[0]] } : choices[0];
  if (q.type === 'profile') {
    const answer: Json = {};
    for (const f of q.rubric.fields as { field: string; judged_on: string }[]) {
      answer[f.field] =
        f.judged_on === 'range'
          ? 3
          : f.judged_on === 'skills'
            ? ['sql', 'python', 'aws']
            : 'Built dashboards and automated reports';
    }
    for (const f of q.rubric.required_fields as string[]) answer[f] ??= 'yes';
    return answer;
  }
  const words = Math.max(Number(q.rubric.min_words ?? 20), 20) + 5;
  return Array.from({ length: words }, (_, i) => ['we', 'measured', 'the', 'rollout', 'carefully'][i % 5]).join(' ');
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

async function pool(total: number, concurrency: number, task: () => Promise<void>) {
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (started < total) {
        started++;
        await task();
      }
    }),
  );
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
