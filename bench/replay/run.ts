/**
 * bench/replay — rebuilding every PostgreSQL projection from the event log, and exporting it
 * (`npm run bench:replay`):
 *
 * 1. BENCH_EVENTS (1,000,000) events on a throw-away topic prefix and database: realistic
 *    histories decided by the real deciders (the demo catalog, students, assessments through to
 *    their recommendations and feedback), Avro-encoded through the registry like the runtime,
 *    produced by the idempotent producer.
 * 2. The floor: the same events consumed raw (read_committed, a group-less reader over every
 *    partition, no decoding), then consumed and decoded.
 * 3. `microcred projections rebuild --all` as its own process: events/s, the ratio to the floor,
 *    its peak resident memory (GNU time's maximum RSS), and the rows it made.
 * 4. `microcred events export --format ndjson` of the same events as its own process: events/s
 *    and peak memory.
 *
 * Topics, database and registry subjects are removed at the end (also after a failure or Ctrl-C).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { HistoryGenerator, type GeneratedEvent } from '../../projections/runtime/rebuild/testing/history';
import { bootstrap } from '../../services/bootstrap/bootstrap';
import { schemaCatalog } from '../../schemas/catalog';
import { MessageCodec, topicOf } from '../../services/messaging/messageCodec';
import { subjectFor } from '../../services/platform/avro';
import { loadConfig } from '../../services/platform/config';
import { repoPath } from '../../services/platform/paths';
import { createPlatform, type Platform } from '../../services/platform/platform';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const SEND_BATCH = Number(process.env.BENCH_SEND_BATCH ?? 2000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 8);
const CONCURRENCY = process.env.BENCH_REBUILD_CONCURRENCY;

interface Measure {
  step: string;
  events: number;
  seconds: number;
  events_per_s: number;
  ratio_to_floor?: string;
  peak_rss_mb?: number;
}

const mb = (kb: number) => Math.round(kb / 1024);
const rate = (events: number, seconds: number) => Math.round(events / Math.max(0.001, seconds));

/** Runs a CLI command as its own process under GNU time; resolves to its stdout, seconds and peak RSS (kB). */
function timedCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; seconds: number; maxRssKb: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'BENCH_TIME %M', process.execPath, repoPath('dist', 'services', 'cli', 'main.js'), ...args],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const m = /BENCH_TIME (\d+)/.exec(stderr);
      if (code !== 0 || !m)
        return reject(new Error(`microcred ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ stdout, stderr: stderr.replace(/BENCH_TIME \d+\n?/, ''), seconds, maxRssKb: Number(m[1]) });
    });
  });
}

/** 1. Generates and produces at least EVENTS events; returns how many, by context. */
async function fill(
  platform: Platform,
  codec: MessageCodec,
): Promise<{ total: number; assessments: number; byContext: Record<string, number> }> {
  const generator = new HistoryGenerator({ seed: 2026, students: 2000, namespace: platform.config.KAFKA_TOPIC_PREFIX });
  const producer = platform.kafka.producer('bench-replay');
  await producer.connect();
  const byContext: Record<string, number> = {};
  let total = 0;
  let assessments = 0;
  let batch: { topic: string; key: string; value: Buffer }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const flush = async () => {
    if (batch.length === 0) return;
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const m of batch) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { key: m.key, value: m.value }]);
    const sent = producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
    batch = [];
    while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  const add = async (events: Iterable<GeneratedEvent>) => {
    for (const { context, envelope } of events) {
      batch.push({
        topic: platform.topics[context].events,
        key: envelope.aggregate_id,
        value: await codec.encodeEvent(context, envelope),
      });
      byContext[context] = (byContext[context] ?? 0) + 1;
      total++;
    }
    if (batch.length >= SEND_BATCH) await flush();
  };
  let lastReport = Date.now();
  await add(generator.setup());
  while (total < EVENTS) {
    await add(generator.assessment(assessments++));
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      process.stdout.write(`  ${total} events produced…\n`);
    }
  }
  await flush();
  await Promise.all(inFlight);
  await producer.disconnect();
  return { total, assessments, byContext };
}

/** 2. The floor: every record of the events topics read raw (and, with `decode`, decoded). */
async function consumeAll(platform: Platform, codec: MessageCodec, decode: boolean): Promise<number> {
  const topics = [platform.topics.identity.events, platform.topics.catalog.events, platform.topics.assessment.events];
  const ends = new Map<string, number>();
  for (const topic of topics) {
    const offsets = await platform.kafkaAdmin.fetchTopicOffsets(topic, {
      isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED,
    });
    for (const o of offsets) if (Number(o.offset) > 0) ends.set(`${topic}|${o.partition}`, Number(o.offset));
  }
  const reader = platform.kafka.partitionReader(`bench-floor-${decode ? 'decode' : 'raw'}-${process.pid}`);
  await reader.connect();
  reader.assign(
    [...ends.keys()].map((k) => ({ topic: k.split('|')[0]!, partition: Number(k.split('|')[1]), offset: 0 })),
  );
  let count = 0;
  const pending = new Set(ends.keys());
  try {
    while (pending.size > 0) {
      const messages = await reader.consume(2000);
      count += messages.length;
      if (decode) for (const m of messages) if (m.value) await codec.decode(m.value);
      for (const k of pending) {
        const [topic, partition] = k.split('|');
        if ((reader.position(topic!, Number(partition)) ?? 0) >= ends.get(k)!) pending.delete(k);
      }
    }
  } finally {
    await reader.disconnect();
  }
  return count;
}

/** The registry subjects bootstrap registered for this prefix (named from the catalog: the registry lists only 1000). */
async function deleteSubjects(platform: Platform): Promise<void> {
  for (const entry of schemaCatalog) {
    const subject = subjectFor(topicOf(entry, platform.topics), entry.schema);
    const url = `${platform.config.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}`;
    // Soft, then for good (Confluent's API: a subject must be soft-deleted first).
    await fetch(url, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${url}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const prefix = `bench-${id}`;
  const base = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const database = `microcred_replay_${id}`;
  const server = new Client({ connectionString: base.DATABASE_URL });
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/${database}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_CLIENT_ID: prefix,
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'warn',
  };
  const platform = await createPlatform(loadConfig(env), 'bench-replay');
  platform.pool.on('error', () => undefined); // connections cut by the final DROP DATABASE … WITH (FORCE)
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    const topics = (await platform.kafkaAdmin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length > 0) await platform.kafkaAdmin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await deleteSubjects(platform).catch(() => undefined);
    await platform.close();
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await server.end();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const load = loadavg()[0]!.toFixed(2);
    process.stdout.write(
      `bench/replay on ${cpus().length} cores (load ${load}), prefix ${prefix}, ${platform.config.KAFKA_PARTITIONS} partitions\n`,
    );
    await bootstrap(platform);
    const codec = new MessageCodec(platform.codec, platform.topics);

    let t0 = performance.now();
    const filled = await fill(platform, codec);
    const fillSeconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `produced ${filled.total} events (${JSON.stringify(filled.byContext)}; ${filled.assessments} assessments) in ${fillSeconds.toFixed(1)} s (${rate(filled.total, fillSeconds)}/s)\n`,
    );

    t0 = performance.now();
    const raw = await consumeAll(platform, codec, false);
    const rawSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const decoded = await consumeAll(platform, codec, true);
    const decodedSeconds = (performance.now() - t0) / 1000;
    const floor = rate(raw, rawSeconds);
    process.stdout.write(`floor: ${raw} records consumed raw in ${rawSeconds.toFixed(1)} s\n`);

    const rebuild = await timedCli(
      ['projections', 'rebuild', '--all', '--json', ...(CONCURRENCY ? ['--concurrency', CONCURRENCY] : [])],
      env,
    );
    const { rebuild: record, seconds: rebuildOwnSeconds } = JSON.parse(rebuild.stdout) as {
      rebuild: { status: string; projections: string[] };
      seconds: number;
    };
    if (record.status !== 'swapped') throw new Error(`the rebuild ended ${record.status}`);
    const { rows } = await platform.pool.query<{
      assessments: number;
      audit_logs: number;
      users: number;
      essay_scores: number;
      recommendations: number;
    }>(
      `SELECT (SELECT count(*)::int FROM assessments) AS assessments, (SELECT count(*)::int FROM audit_logs) AS audit_logs,
              (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM essay_scores) AS essay_scores,
              (SELECT count(*)::int FROM recommendations) AS recommendations`,
    );
    const made = rows[0]!;
    if (made.assessments !== filled.assessments || made.audit_logs !== filled.total) {
      throw new Error(
        `the rebuild made ${JSON.stringify(made)} for ${filled.assessments} assessments, ${filled.total} events`,
      );
    }

    const exported = await timedCli(['events', 'export', '--format', 'ndjson', '--output', '/dev/null'], env);
    const exportedCount = Number(/exported (\d+) of/.exec(exported.stderr)?.[1] ?? NaN);
    if (exportedCount !== filled.total) throw new Error(`the export wrote ${exportedCount} of ${filled.total} events`);

    const measures: Measure[] = [
      {
        step: 'floor: raw read_committed consume',
        events: raw,
        seconds: rawSeconds,
        events_per_s: floor,
        ratio_to_floor: '1.00',
      },
      {
        step: 'consume + Avro decode',
        events: decoded,
        seconds: decodedSeconds,
        events_per_s: rate(decoded, decodedSeconds),
        ratio_to_floor: (rate(decoded, decodedSeconds) / floor).toFixed(2),
      },
      {
        step: `rebuild --all (${record.projections.length} projections), process`,
        events: filled.total,
        seconds: rebuild.seconds,
        events_per_s: rate(filled.total, rebuild.seconds),
        ratio_to_floor: (rate(filled.total, rebuild.seconds) / floor).toFixed(2),
        peak_rss_mb: mb(rebuild.maxRssKb),
      },
      {
        step: 'rebuild --all, start to swap',
        events: filled.total,
        seconds: rebuildOwnSeconds,
        events_per_s: rate(filled.total, rebuildOwnSeconds),
        ratio_to_floor: (rate(filled.total, rebuildOwnSeconds) / floor).toFixed(2),
      },
      {
        step: 'events export --format ndjson',
        events: exportedCount,
        seconds: exported.seconds,
        events_per_s: rate(exportedCount, exported.seconds),
        ratio_to_floor: (rate(exportedCount, exported.seconds) / floor).toFixed(2),
        peak_rss_mb: mb(exported.maxRssKb),
      },
    ].map((m) => ({ ...m, seconds: Number(m.seconds.toFixed(1)) }));
    process.stdout.write(`\nrows made by the rebuild: ${JSON.stringify(made)}\n`);
    console.table(measures);
    process.stdout.write(`load average at the end: ${loadavg()[0]!.toFixed(2)}\n`);
    if (process.env.BENCH_JSON === '1') process.stdout.write(`${JSON.stringify({ events: filled.total, measures })}\n`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
