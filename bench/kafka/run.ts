/**
 * Kafka throughput benchmark: our wrapper (services/platform/kafka) against Kafka's own
 * ProducerPerformance / ConsumerPerformance, on the same broker, with the same message
 * count and size, in one run. Fresh topics under a unique prefix, deleted at the end.
 *
 *   npm run bench:kafka                        (see bench/README.md)
 *   BENCH_MESSAGES=20000 npm run bench:kafka   (quick iteration)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { librdkafkaVersion, type KafkaJS } from '@confluentinc/kafka-javascript';
import { version as kafkaJavascriptVersion } from '@confluentinc/kafka-javascript/package.json';
import { loadConfig } from '../../services/platform/config';
import { withDeadline } from '../../services/platform/deadline';
import { createLogger } from '../../services/platform/logger';
import { endOffsets, ensureTopics } from '../../services/platform/kafka/admin';
import { KafkaClients, type Admin, type Consumer, type Producer } from '../../services/platform/kafka/kafka';
import { inTransaction } from '../../services/platform/kafka/transactions';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected an integer >= ${min}`);
  }
  return value;
}

const N = intEnv('BENCH_MESSAGES', 200_000);
const settings = {
  messages: N,
  bytes: intEnv('BENCH_MESSAGE_BYTES', 512),
  txSize: intEnv('BENCH_TX_SIZE', 1000),
  partitions: intEnv('BENCH_PARTITIONS', 6),
  /** Messages per `producer.send` call, and how many such calls are in flight at once. */
  sendBatch: intEnv('BENCH_SEND_BATCH', 1000),
  inFlight: intEnv('BENCH_IN_FLIGHT', 8),
  /** `js.consumer.max.batch.size`: the projection runner's 500 for plain consumption ... */
  consumeBatch: intEnv('BENCH_CONSUME_BATCH', 500),
  /** ... and the decider runtime's 100 for consume-transform-produce. */
  ctpBatch: intEnv('BENCH_CTP_BATCH', 100),
  /** Deadline of each measured phase (and of each Java tool run). */
  phaseTimeoutMs: intEnv('BENCH_PHASE_TIMEOUT_MS', Math.max(120_000, N)),
  /** Java transaction length; by default calibrated so a Java transaction holds ~BENCH_TX_SIZE records. */
  javaTxDurationMs: intEnv('BENCH_JAVA_TX_DURATION_MS', 0, 0),
};
/** A phase that missed its deadline gets this long to stop and close its clients. */
const UNWIND_TIMEOUT_MS = 45_000;
const CLEANUP_TIMEOUT_MS = UNWIND_TIMEOUT_MS + 75_000;
const totalTimeoutMs = intEnv('BENCH_TIMEOUT_MS', 8 * settings.phaseTimeoutMs + 120_000);
const MiB = 1024 * 1024;

const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL || 'warn' });
const logger = createLogger({ level: config.LOG_LEVEL, service: `${config.SERVICE_NAME}-bench-kafka` });
const kafka = new KafkaClients({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-bench`,
  transactionTimeoutMs: config.KAFKA_TRANSACTION_TIMEOUT_MS,
  logger,
});

const prefix = `${config.KAFKA_TOPIC_PREFIX}.bench.${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
const topics = {
  ours: `${prefix}.ours-plain`,
  oursTx: `${prefix}.ours-tx`,
  ctpOut: `${prefix}.ours-ctp-out`,
  java: `${prefix}.java-plain`,
  javaTx: `${prefix}.java-tx`,
  javaTx2: `${prefix}.java-tx-2`,
  javaTx3: `${prefix}.java-tx-3`,
};
const groups = {
  consume: `${prefix}.ours-consume`,
  ctp: `${prefix}.ours-ctp`,
  java: `${prefix}.java-consume`,
};

// ---------------------------------------------------------------------------------------------
// Helpers: deadlines, progress, resources to release
// ---------------------------------------------------------------------------------------------

/** True once `promise` has settled, false if it is still pending after `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(
    promise.then(
      () => true,
      () => true,
    ),
    ms,
    'settle',
  ).catch(() => false);
}

/** Like Promise.all, but waits for every promise to settle before throwing the first error. */
async function allSettled(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Clients still connected, and Java tools still running: cleanup closes them whatever happens.
 * A client is only ever disconnected once nothing of ours is waiting on it: librdkafka can
 * deadlock when a transactional producer is destroyed during sendOffsetsToTransaction.
 */
const openClients = new Map<{ disconnect(): Promise<void> }, 'consumer' | 'other'>();
const children = new Set<ChildProcess>();
let admin: Admin | undefined;
/** Set once cleanup has begun: nothing new is connected or started after that. */
let cleaning: Promise<void> | undefined;
/** The phase now running, so cleanup can stop it and let it close its own clients first. */
let current: { abort: AbortController; done: Promise<unknown> } | undefined;
/** A phase that did not stop in time may still be inside a client call: its clients are left alone. */
let stuck = false;

async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  client: T,
  kind: 'consumer' | 'other' = 'other',
): Promise<T> {
  if (cleaning) throw new Error('not connecting, cleaning up');
  openClients.set(client, kind);
  await withDeadline(client.connect(), 30_000, 'connect');
  return client;
}

async function close(client: { disconnect(): Promise<void> }): Promise<void> {
  openClients.delete(client);
  await withDeadline(client.disconnect(), 30_000, 'disconnect').catch((err) =>
    progress(`disconnect failed: ${describe(err)}`),
  );
}

/**
 * Last resort for a blocked event loop (a native call that never returns, where no timer of
 * ours can fire): a thread of its own kills the Java tools we started and then this process.
 */
const hardStop = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const fs = require('node:fs');
   const groups = new Set();
   parentPort.on('message', (m) => (m.add ? groups.add(m.add) : groups.delete(m.remove)));
   setTimeout(() => {
     fs.writeSync(2, '[bench] hard deadline passed with the event loop blocked: killing the tools and this process\\n');
     for (const pid of groups) { try { process.kill(-pid, 'SIGKILL'); } catch {} }
     process.kill(workerData.pid, 'SIGKILL');
   }, workerData.ms);`,
  { eval: true, workerData: { pid: process.pid, ms: totalTimeoutMs + CLEANUP_TIMEOUT_MS + 30_000 } },
);
hardStop.unref();

function findRepoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'ops', 'stack.sh'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`ops/stack.sh not found above ${__dirname}`);
  }
}

/** Random upper-case letters, like ProducerPerformance's --record-size payload. */
function randomPayload(size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = 65 + Math.floor(Math.random() * 26);
  return buf;
}

let topicsRequested = false;

/** ensureTopics, retried: right after creation the metadata may not list a new topic yet. */
async function createTopics(admin: Admin): Promise<void> {
  topicsRequested = true;
  const specs = Object.values(topics).map((name) => ({ name, partitions: settings.partitions, config: {} }));
  const deadline = now() + 60_000;
  for (;;) {
    try {
      await withDeadline(ensureTopics(admin, specs), 30_000, 'create topics');
      return;
    } catch (err) {
      if (now() > deadline) throw err;
      await sleep(500);
    }
  }
}

async function sumEndOffsets(admin: Admin, topic: string, kind: 'committed' | 'written'): Promise<number> {
  const offsets = await withDeadline(endOffsets(admin, topic, kind), 15_000, `end offsets of ${topic}`);
  return [...offsets.values()].reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

interface Measurement {
  who: 'ours' | 'java';
  label: string;
  msgsPerSec?: number;
  mbPerSec?: number;
  txPerSec?: number;
  seconds?: number;
  notes: string[];
  error?: string;
}

const results = new Map<string, Measurement>();

/** Runs one phase with a deadline; a phase past its deadline is told to stop and given time to close its clients. */
async function measure(
  key: string,
  who: Measurement['who'],
  label: string,
  run: (m: Measurement, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const m: Measurement = { who, label, notes: [] };
  results.set(key, m);
  if (cleaning) {
    m.error = 'not run: cleaning up';
    return;
  }
  progress(`${who} ${label} ...`);
  const abort = new AbortController();
  const running = run(m, abort.signal);
  current = { abort, done: running };
  try {
    await withDeadline(running, settings.phaseTimeoutMs, `${who} ${label.trim()}`);
    progress(
      `  ${m.msgsPerSec?.toFixed(0) ?? '?'} msgs/s, ${m.mbPerSec?.toFixed(2) ?? '?'} MB/s${m.notes.length ? ` (${m.notes.join('; ')})` : ''}`,
    );
  } catch (err) {
    m.error = describe(err);
    progress(`  FAILED: ${m.error}`);
    abort.abort(err);
    if (!(await settlesWithin(running, UNWIND_TIMEOUT_MS))) {
      stuck = true;
      progress(`  the phase did not stop within ${UNWIND_TIMEOUT_MS} ms; its clients are left connected`);
    }
  } finally {
    if (current?.abort === abort) current = undefined;
  }
}

function rates(m: Measurement, messages: number, bytes: number, seconds: number, transactions?: number): void {
  m.seconds = seconds;
  m.msgsPerSec = messages / seconds;
  m.mbPerSec = bytes / MiB / seconds;
  if (transactions !== undefined) m.txPerSec = transactions / seconds;
}

// ---------------------------------------------------------------------------------------------
// Our wrapper
// ---------------------------------------------------------------------------------------------

const payload = randomPayload(settings.bytes);
const messagesOf = (count: number) => Array.from({ length: count }, () => ({ value: payload }));

/** Sends `count` messages as `send` calls of `sendBatch`, `inFlight` at a time; resolves when all are acknowledged. */
async function produce(producer: Producer, topic: string, count: number, signal: AbortSignal): Promise<void> {
  let remaining = count;
  const lane = async () => {
    while (remaining > 0) {
      signal.throwIfAborted();
      const n = Math.min(settings.sendBatch, remaining);
      remaining -= n;
      await producer.send({ topic, messages: messagesOf(n) });
    }
  };
  await allSettled(Array.from({ length: settings.inFlight }, lane));
}

async function oursProducePlain(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  const producer = await connected(kafka.producer('bench'));
  try {
    const start = now();
    await produce(producer, topics.ours, N, signal);
    rates(m, N, N * settings.bytes, (now() - start) / 1000);
  } finally {
    await close(producer);
  }
  const written = await sumEndOffsets(admin, topics.ours, 'written');
  if (written !== N) throw new Error(`topic holds ${written} records, expected ${N}`);
  m.notes.push(`send() of ${settings.sendBatch} msgs, ${settings.inFlight} in flight`);
}

async function oursProduceTransactional(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  const producer = await connected(kafka.transactionalProducer(`${prefix}.ours-tx`));
  let transactions = 0;
  try {
    const start = now();
    for (let sent = 0; sent < N; sent += settings.txSize) {
      signal.throwIfAborted();
      const size = Math.min(settings.txSize, N - sent);
      await inTransaction(producer, async (tx) => {
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < size; i += settings.sendBatch) {
          sends.push(tx.send({ topic: topics.oursTx, messages: messagesOf(Math.min(settings.sendBatch, size - i)) }));
        }
        await allSettled(sends);
      });
      transactions++;
    }
    rates(m, N, N * settings.bytes, (now() - start) / 1000, transactions);
  } finally {
    await close(producer);
  }
  // Every commit writes one control record per partition the transaction touched.
  const markers = (await sumEndOffsets(admin, topics.oursTx, 'committed')) - N;
  m.notes.push(`${transactions} tx of ${settings.txSize}`, `${(markers / transactions).toFixed(1)} partitions/tx`);
}

interface ConsumeRun {
  /** From `run()` to the last message, including the group join. */
  totalSeconds: number;
  /** From the partition assignment to the last message: what ConsumerPerformance calls fetch time. */
  fetchSeconds: number;
  bytes: number;
  batches: number;
  failedBatches: number;
}

/**
 * Runs a group consumer from the wrapper over `topic` until every partition has been processed
 * up to `expected` (its end offsets); `handle` processes a batch (default: count it only).
 */
async function consumeAll(
  consumer: Consumer,
  topic: string,
  expected: Map<number, number>,
  assignedAt: () => number | undefined,
  signal: AbortSignal,
  handle?: (batch: KafkaJS.Batch) => Promise<void>,
): Promise<ConsumeRun> {
  const next = new Map<number, number>();
  let bytes = 0;
  let batches = 0;
  let failedBatches = 0;
  let finish: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  signal.addEventListener('abort', () => fail(signal.reason), { once: true });
  const complete = () => [...expected].every(([p, end]) => (next.get(p) ?? 0) >= end);

  await withDeadline(consumer.subscribe({ topics: [topic] }), 15_000, 'subscribe');
  const start = now();
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0 || signal.aborted) return;
      try {
        await handle?.(batch);
      } catch (err) {
        failedBatches++;
        throw err; // the consumer seeks back and redelivers the batch
      }
      batches++;
      for (const message of batch.messages) bytes += message.value?.length ?? 0;
      const last = Number(batch.messages[batch.messages.length - 1]!.offset) + 1;
      next.set(batch.partition, Math.max(next.get(batch.partition) ?? 0, last));
      if (complete()) finish();
    },
  });
  if (complete()) finish();
  await finished;
  const end = now();
  const assigned = assignedAt() ?? start;
  return { totalSeconds: (end - start) / 1000, fetchSeconds: (end - assigned) / 1000, bytes, batches, failedBatches };
}

function consumerOf(
  groupId: string,
  maxBatchSize: number,
): { consumer: Consumer; assignedAt: () => number | undefined } {
  let assigned: number | undefined;
  const consumer = kafka.consumer(groupId, {
    maxBatchSize,
    rebalance: (event) => {
      if (event === 'assign' && assigned === undefined) assigned = now();
    },
  });
  return { consumer, assignedAt: () => assigned };
}

async function oursConsume(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  const expected = await withDeadline(endOffsets(admin, topics.ours, 'committed'), 15_000, 'end offsets');
  const { consumer, assignedAt } = consumerOf(groups.consume, settings.consumeBatch);
  try {
    await connected(consumer, 'consumer');
    const run = await consumeAll(consumer, topics.ours, expected, assignedAt, signal);
    rates(m, N, run.bytes, run.fetchSeconds);
    m.notes.push(
      `batch ≤ ${settings.consumeBatch}, ${(N / run.batches).toFixed(0)} msgs/batch avg`,
      `join ${(run.totalSeconds - run.fetchSeconds).toFixed(2)} s excluded (${(N / run.totalSeconds).toFixed(0)} msgs/s incl.)`,
    );
  } finally {
    await close(consumer);
  }
}

async function oursConsumeTransformProduce(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  const expected = await withDeadline(endOffsets(admin, topics.ours, 'committed'), 15_000, 'end offsets');
  const { consumer, assignedAt } = consumerOf(groups.ctp, settings.ctpBatch);
  const producer = kafka.transactionalProducer(`${prefix}.ours-ctp`);
  let transactions = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let run: ConsumeRun;
  try {
    await allSettled([connected(consumer, 'consumer'), connected(producer)]);
    run = await consumeAll(consumer, topics.ours, expected, assignedAt, signal, async (batch) => {
      const last = batch.messages[batch.messages.length - 1]!;
      // The decider pattern: one output per input, on the input's partition, plus the consumed
      // offset, in one transaction committed with the group's metadata (KIP-447).
      const tx = inTransaction(
        producer,
        async (tx) => {
          await tx.send({
            topic: topics.ctpOut,
            messages: batch.messages.map((msg) => ({ key: msg.key, value: msg.value, partition: batch.partition })),
          });
        },
        {
          consumer,
          consumed: [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }],
        },
      );
      inFlight = tx;
      await tx;
      transactions++;
    });
  } finally {
    // The consumer first (its disconnect waits for a running eachBatch), then the producer, and
    // only once no transaction call is pending on it.
    await close(consumer);
    if (await settlesWithin(inFlight, UNWIND_TIMEOUT_MS)) await close(producer);
    else {
      openClients.delete(producer);
      stuck = true;
      progress('a transaction never finished: its producer is left connected');
    }
  }
  rates(m, N, run.bytes, run.fetchSeconds, transactions);
  const committed = await withDeadline(
    admin.fetchOffsets({ groupId: groups.ctp, topics: [topics.ours], timeout: 10_000 }),
    15_000,
    'group offsets',
  );
  const committedSum = committed.flatMap((t) => t.partitions).reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
  if (committedSum !== N) throw new Error(`group committed ${committedSum} offsets, expected ${N}`);
  if (run.failedBatches === 0) {
    // One output partition per transaction: one commit marker each (aborts would add records and markers).
    const outputs = (await sumEndOffsets(admin, topics.ctpOut, 'committed')) - transactions;
    if (outputs !== N) throw new Error(`output topic holds ${outputs} records, expected ${N}`);
  }
  m.notes.push(
    `batch ≤ ${settings.ctpBatch}, ${(N / transactions).toFixed(0)} msgs/tx avg`,
    `join ${(run.totalSeconds - run.fetchSeconds).toFixed(2)} s excluded`,
  );
  if (run.failedBatches > 0) m.notes.push(`${run.failedBatches} batches retried`);
}

// ---------------------------------------------------------------------------------------------
// Kafka's own tools, run with the broker's classpath (ops/stack.sh kafka-class)
// ---------------------------------------------------------------------------------------------

const repoRoot = findRepoRoot();
let tempDir: string | undefined;

function runKafkaClass(javaClass: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  if (cleaning) return Promise.reject(new Error(`${javaClass}: not started, cleaning up`));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'ops', 'stack.sh'), 'kafka-class', javaClass, ...args], {
      cwd: repoRoot,
      // Own process group: stopping it stops bash and the JVM under it together.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // ops/lib/kafka.sh passes KAFKA_TOOL_HEAP to the JVM; a fixed locale keeps the numbers parseable.
      env: {
        ...process.env,
        KAFKA_TOOL_HEAP: `${process.env.KAFKA_TOOL_HEAP || '-Xmx512m'} -Duser.language=en -Duser.country=US`,
      },
    });
    children.add(child);
    if (child.pid !== undefined) hardStop.postMessage({ add: child.pid });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stop = (reason: string) => {
      void stopChild(child);
      reject(new Error(`${javaClass}: ${reason}`));
    };
    const timer = setTimeout(() => stop(`no result within ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => stop('stopped');
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      children.delete(child);
      if (child.pid !== undefined) hardStop.postMessage({ remove: child.pid });
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code) => {
      done();
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`${javaClass} exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`),
        );
    });
  });
}

/** Stops a tool's process group (bash and its JVM): SIGTERM, then SIGKILL after 5 s; resolves once it is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => signal('SIGKILL'), 5000);
    const giveUp = setTimeout(resolve, 7000);
    child.once('close', () => {
      clearTimeout(kill);
      clearTimeout(giveUp);
      resolve();
    });
    signal('SIGTERM');
  });
}

interface ProducerPerformanceSummary {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p99Ms: number;
}

/** The final line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, a ms 50th, ...". */
function parseProducerPerformance(stdout: string): ProducerPerformanceSummary {
  const re =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/;
  const line = stdout
    .split('\n')
    .filter((l) => re.test(l))
    .pop();
  const match = line?.match(re);
  if (!match) throw new Error(`no ProducerPerformance summary in: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  return {
    records: Number(match[1]),
    recordsPerSec: Number(match[2]),
    mbPerSec: Number(match[3]),
    avgLatencyMs: Number(match[4]),
    p99Ms: Number(match[8]),
  };
}

/** A header line "start.time, end.time, data.consumed.in.MB, ..., fetch.nMsg.sec" and one line of values. */
function parseConsumerPerformance(stdout: string): Record<string, string> {
  const lines = stdout.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => l.includes('fetch.nMsg.sec'));
  const header = at >= 0 ? lines[at]!.split(/,\s*/) : [];
  const values = lines.slice(at + 1).find((l) => l.split(/,\s*/).length === header.length);
  if (at < 0 || !values)
    throw new Error(`no ConsumerPerformance summary in: ${stdout.trim().split('\n').slice(-3).join(' | ')}`);
  const fields = values.split(/,\s*/);
  return Object.fromEntries(header.map((name, i) => [name, fields[i]!]));
}

function producerPerformanceArgs(topic: string): string[] {
  return [
    '--topic',
    topic,
    '--num-records',
    String(N),
    '--record-size',
    String(settings.bytes),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${config.KAFKA_BROKERS}`,
    'acks=all',
    'enable.idempotence=true',
    'linger.ms=5',
  ];
}

async function javaProducePlain(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  const stdout = await runKafkaClass(
    'org.apache.kafka.tools.ProducerPerformance',
    producerPerformanceArgs(topics.java),
    settings.phaseTimeoutMs,
    signal,
  );
  const s = parseProducerPerformance(stdout);
  if (s.records !== N) throw new Error(`sent ${s.records} records, expected ${N}`);
  m.msgsPerSec = s.recordsPerSec;
  m.mbPerSec = s.mbPerSec;
  m.seconds = N / s.recordsPerSec;
  const written = await sumEndOffsets(admin, topics.java, 'written');
  if (written !== N) throw new Error(`topic holds ${written} records, expected ${N}`);
  m.notes.push('linger.ms=5', `latency avg ${s.avgLatencyMs.toFixed(0)} ms, p99 ${s.p99Ms} ms`);
}

/**
 * Commit markers per partition of a fully committed topic: every control record takes an
 * offset, so markers = end offset - records. Reads the topic once (not timed).
 */
async function commitMarkers(
  admin: Admin,
  topic: string,
  records: number,
  signal: AbortSignal,
): Promise<Map<number, number>> {
  const ends = await withDeadline(endOffsets(admin, topic, 'written'), 15_000, `end offsets of ${topic}`);
  const reader = kafka.partitionReader(`${prefix}-count-${topic.slice(prefix.length + 1)}`);
  try {
    await connected(reader);
    reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: 0 })));
    const counts = new Map<number, number>();
    for (let seen = 0; seen < records;) {
      signal.throwIfAborted();
      for (const message of await reader.consume(10_000)) {
        counts.set(message.partition, (counts.get(message.partition) ?? 0) + 1);
        seen++;
      }
    }
    return new Map([...ends].map(([p, end]) => [p, end - (counts.get(p) ?? 0)]));
  } finally {
    await close(reader);
  }
}

async function javaProduceTransactional(admin: Admin, m: Measurement, signal: AbortSignal): Promise<void> {
  // ProducerPerformance commits after a duration, not a count. First guess: BENCH_TX_SIZE records
  // at its plain rate; then count what it did and, while that is off target, run again (on a
  // fresh topic, at most 3 runs) with the duration scaled towards BENCH_TX_SIZE.
  const plainRate = results.get('java-produce')?.msgsPerSec ?? results.get('ours-produce')?.msgsPerSec ?? 10_000;
  let durationMs = settings.javaTxDurationMs || Math.max(1, Math.round((settings.txSize / plainRate) * 1000));
  const attempts: { durationMs: number; perTx: number; msgsPerSec: number; mbPerSec: number; txPerSec: number }[] = [];
  for (const topic of [topics.javaTx, topics.javaTx2, topics.javaTx3]) {
    const stdout = await runKafkaClass(
      'org.apache.kafka.tools.ProducerPerformance',
      [...producerPerformanceArgs(topic), '--transactional-id', topic, '--transaction-duration-ms', String(durationMs)],
      settings.phaseTimeoutMs,
      signal,
    );
    const s = parseProducerPerformance(stdout);
    if (s.records !== N) throw new Error(`sent ${s.records} records, expected ${N}`);
    // The tool does not count its transactions. Each commit leaves one marker in every partition
    // it touched; its sticky partitioner moves on every batch.size (16 KiB), so a transaction of
    // T*S >> P*16 KiB touches every partition and the busiest partition's marker count is exact
    // (otherwise it is a lower bound).
    const markers = [...(await commitMarkers(admin, topic, N, signal)).values()];
    const transactions = Math.max(1, ...markers);
    const seconds = N / s.recordsPerSec;
    const perTx = N / transactions;
    attempts.push({
      durationMs,
      perTx,
      msgsPerSec: s.recordsPerSec,
      mbPerSec: s.mbPerSec,
      txPerSec: transactions / seconds,
    });
    const onTarget = perTx >= settings.txSize * 0.8 && perTx <= settings.txSize * 1.25;
    if (settings.javaTxDurationMs || onTarget || (durationMs === 1 && perTx > settings.txSize)) break;
    const next = Math.max(1, Math.round((durationMs * settings.txSize) / perTx));
    if (next === durationMs) break;
    durationMs = next;
  }
  // Report the run whose transactions came closest to BENCH_TX_SIZE.
  const off = (a: { perTx: number }) => Math.abs(Math.log(a.perTx / settings.txSize));
  const best = attempts.reduce((a, b) => (off(b) < off(a) ? b : a));
  m.msgsPerSec = best.msgsPerSec;
  m.mbPerSec = best.mbPerSec;
  m.txPerSec = best.txPerSec;
  m.seconds = N / best.msgsPerSec;
  m.notes.push(`--transaction-duration-ms ${best.durationMs}: ${best.perTx.toFixed(0)} msgs/tx (from commit markers)`);
  if (attempts.length > 1) {
    m.notes.push(
      `runs: ${attempts.map((a) => `${a.durationMs} ms -> ${a.perTx.toFixed(0)}/tx at ${a.msgsPerSec.toFixed(0)} msgs/s`).join(', ')}`,
    );
  }
}

async function javaConsume(m: Measurement, signal: AbortSignal): Promise<void> {
  tempDir ??= mkdtempSync(path.join(os.tmpdir(), 'microcred-bench-'));
  const consumerConfig = path.join(tempDir, 'consumer.properties');
  // The wrapper's session timeout, so the group of a stopped run can be deleted soon after.
  writeFileSync(consumerConfig, 'isolation.level=read_committed\nsession.timeout.ms=10000\n');
  const stdout = await runKafkaClass(
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      config.KAFKA_BROKERS,
      '--topic',
      topics.ours,
      '--messages',
      String(N),
      '--group',
      groups.java,
      '--consumer.config',
      consumerConfig,
      '--timeout',
      '30000',
    ],
    settings.phaseTimeoutMs,
    signal,
  );
  const s = parseConsumerPerformance(stdout);
  const consumed = Number(s['data.consumed.in.nMsg']);
  if (consumed !== N) throw new Error(`consumed ${consumed} records, expected ${N}`);
  m.msgsPerSec = Number(s['fetch.nMsg.sec']);
  m.mbPerSec = Number(s['fetch.MB.sec']);
  m.seconds = Number(s['fetch.time.ms']) / 1000;
  m.notes.push(
    `join ${(Number(s['rebalance.time.ms']) / 1000).toFixed(2)} s excluded (${Number(s['nMsg.sec']).toFixed(0)} msgs/s incl.)`,
  );
}

async function kafkaToolsVersion(): Promise<string> {
  try {
    const out = await runKafkaClass('org.apache.kafka.tools.ConsumerPerformance', ['--version'], 60_000);
    return out.trim().split('\n').pop() ?? 'unknown';
  } catch (err) {
    return `unknown (${describe(err)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const fmt = (v: number | undefined, digits = 0) =>
  v === undefined || !Number.isFinite(v)
    ? '-'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function report(facts: string[]): void {
  const out: string[] = ['', 'microcred Kafka throughput benchmark', ...facts.map((f) => `  ${f}`), ''];
  const widths = [5, 52, 10, 8, 8, 8];
  const row = (cells: string[], notes: string) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ') + `  ${notes}`;
  out.push(row(['', 'measurement', 'msgs/s', 'MB/s', 'tx/s', 'seconds'], 'notes'));
  for (const m of results.values()) {
    out.push(
      m.error
        ? row([m.who, m.label, 'FAILED', '', '', ''], m.error)
        : row(
            [m.who, m.label, fmt(m.msgsPerSec), fmt(m.mbPerSec, 2), fmt(m.txPerSec), fmt(m.seconds, 2)],
            m.notes.join('; '),
          ),
    );
  }
  out.push('', 'ours / java (msgs/s; 1.00 = as fast as the Java client on this broker):');
  for (const [label, ours, java] of [
    ['produce, idempotent', 'ours-produce', 'java-produce'],
    ['produce, transactional', 'ours-produce-tx', 'java-produce-tx'],
    ['consume, read_committed', 'ours-consume', 'java-consume'],
  ] as const) {
    const a = results.get(ours);
    const b = results.get(java);
    const ratio =
      a?.msgsPerSec && b?.msgsPerSec && !a.error && !b.error ? (a.msgsPerSec / b.msgsPerSec).toFixed(2) : 'n/a';
    out.push(`  ${label.padEnd(26)} ${ratio}`);
  }
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
  if (process.env.BENCH_JSON) {
    process.stdout.write(JSON.stringify({ settings, results: Object.fromEntries(results) }) + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup and main
// ---------------------------------------------------------------------------------------------

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    // Let a running phase stop and close its own clients, in their order, before anything else.
    if (current) {
      current.abort.abort(new Error('cleaning up'));
      if (!(await settlesWithin(current.done, UNWIND_TIMEOUT_MS))) stuck = true;
    }
    await Promise.all([...children].map(stopChild));
    if (stuck) {
      progress('a phase is still inside a client call: leaving its clients connected');
    } else {
      // Consumers before producers: a consumer's disconnect waits for its running batch handler.
      const clients = [...openClients];
      await Promise.all(clients.filter(([, kind]) => kind === 'consumer').map(([c]) => close(c)));
      await Promise.all(clients.filter(([, kind]) => kind !== 'consumer').map(([c]) => close(c)));
    }
    if (admin) {
      const a = admin;
      if (topicsRequested) await Promise.all(Object.values(topics).map((topic) => deleteTopic(a, topic)));
      await Promise.all(Object.values(groups).map((group) => deleteGroup(a, group)));
      // Deletion is acknowledged by the controller; the listing may lag it for a moment.
      for (let attempt = 1; topicsRequested; attempt++) {
        const listed = await withDeadline(a.listTopics(), 15_000, 'list topics').catch(() => [] as string[]);
        const left = listed.filter((t) => t.startsWith(`${prefix}.`));
        if (left.length === 0) break;
        if (attempt === 5) {
          progress(`topics still present: ${left.join(', ')}`);
          break;
        }
        await sleep(1000);
      }
      await withDeadline(a.disconnect(), 15_000, 'admin disconnect').catch(() => undefined);
      admin = undefined;
    }
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  })();
  return cleaning;
}

/** Deletes one of our topics; a topic created a moment ago may not be known yet, so retry that. */
async function deleteTopic(admin: Admin, topic: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withDeadline(admin.deleteTopics({ topics: [topic], timeout: 30_000 }), 45_000, `delete topic ${topic}`);
      return;
    } catch (err) {
      const unknown = /unknown topic/i.test(describe(err));
      if (unknown && attempt < 5) {
        await sleep(1000);
        continue;
      }
      if (!unknown) progress(`deleting topic ${topic} failed: ${describe(err)}`);
      return;
    }
  }
}

/** Deletes one of our groups; a member of a stopped tool stays until its session times out, so retry that. */
async function deleteGroup(admin: Admin, group: string): Promise<void> {
  const deadline = now() + 20_000;
  for (;;) {
    try {
      await withDeadline(admin.deleteGroups([group], { timeout: 10_000 }), 15_000, `delete group ${group}`);
      return;
    } catch (err) {
      const text = `${describe(err)} ${JSON.stringify(err)}`;
      // A group that never committed anything may be gone already.
      if (/GROUP_ID_NOT_FOUND|does not exist/i.test(text)) return;
      if (/NON_EMPTY_GROUP|not empty/i.test(text) && now() < deadline) {
        await sleep(1000);
        continue;
      }
      progress(`deleting group ${group} failed: ${text}`);
      return;
    }
  }
}

async function bail(reason: string, code: number): Promise<never> {
  progress(`${reason}: cleaning up`);
  await withDeadline(cleanup(), CLEANUP_TIMEOUT_MS, 'cleanup').catch((err) => progress(describe(err)));
  process.exit(code);
}

async function main(): Promise<number> {
  const watchdog = setTimeout(
    () => void bail(`no result within BENCH_TIMEOUT_MS=${totalTimeoutMs}`, 2),
    totalTimeoutMs,
  );
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void bail(sig, 130));

  const cpus = os.cpus();
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const facts = [
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
    `node ${process.version}, @confluentinc/kafka-javascript ${kafkaJavascriptVersion}, librdkafka ${librdkafkaVersion}`,
    `Kafka tools ${await kafkaToolsVersion()} (broker classpath); broker ${config.KAFKA_BROKERS} on this machine`,
    `N=${N} messages of S=${settings.bytes} bytes (no key), ${settings.partitions} partitions, T=${settings.txSize} msgs/tx; MB = MiB of payload`,
    `topics and groups: ${prefix}.* (deleted at the end)`,
    `load average ${load()} at start`,
  ];

  try {
    admin = kafka.admin();
    await withDeadline(admin.connect(), 30_000, 'admin connect');
    await createTopics(admin);
    const a = admin;
    // Interleaved, so drift on a shared machine hits both sides alike.
    await measure('ours-produce', 'ours', '1 produce, idempotent producer (acks=all)', (m, s) =>
      oursProducePlain(a, m, s),
    );
    await measure('java-produce', 'java', '  ProducerPerformance, idempotent (acks=all)', (m, s) =>
      javaProducePlain(a, m, s),
    );
    await measure('ours-produce-tx', 'ours', `2 produce, transactional (inTransaction × ${settings.txSize})`, (m, s) =>
      oursProduceTransactional(a, m, s),
    );
    await measure('java-produce-tx', 'java', '  ProducerPerformance, transactional', (m, s) =>
      javaProduceTransactional(a, m, s),
    );
    await measure('ours-consume', 'ours', '3 consume, read_committed group consumer (eachBatch)', (m, s) =>
      oursConsume(a, m, s),
    );
    await measure('java-consume', 'java', '  ConsumerPerformance, read_committed', (m, s) => javaConsume(m, s));
    await measure('ours-ctp', 'ours', '4 consume-transform-produce, tx per batch (decider)', (m, s) =>
      oursConsumeTransformProduce(a, m, s),
    );
  } catch (err) {
    progress(`setup failed: ${describe(err)}`);
    results.set('setup', { who: 'ours', label: 'setup', notes: [], error: describe(err) });
  } finally {
    progress('cleaning up');
    await withDeadline(cleanup(), CLEANUP_TIMEOUT_MS, 'cleanup').catch((err) => progress(describe(err)));
  }
  facts.push(`load average ${load()} at end`);
  report(facts);
  clearTimeout(watchdog);
  return [...results.values()].some((m) => m.error) || stuck ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Every client is closed by now; should anything still hold the event loop, do not wait for it.
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
