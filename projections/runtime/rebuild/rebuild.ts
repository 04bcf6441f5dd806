import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Pool, PoolClient } from 'pg';
import type { MessageCodec } from '../../../services/messaging/messageCodec';
import type { Config, Topics } from '../../../services/platform/config';
import type { Admin, KafkaClients, PartitionReader, ReadMessage } from '../../../services/platform/kafka/kafka';
import type { Logger } from '../../../services/platform/logger';
import { createPool, inTransaction } from '../../../services/platform/postgres/pool';
import { allProjections, type AnyProjection } from '../../index';
import { isPoison, type DeadLetterEntry } from '../deadLetters';
import { applyRecords, decodeRecords, type DecodedRecord } from '../applyRecords';
import {
  claimRebuild,
  findRebuild,
  finishRebuild,
  insertRebuild,
  rebuildErrors,
  RebuildError,
  recordProgress,
  recordStop,
  recordWarnings,
  RebuildSession,
  unfinishedRebuilds,
  type RebuildPhase,
  type RebuildRecord,
} from './registry';
import {
  changedTables,
  checkIdentifier,
  createDeferredIndexes,
  createShadow,
  dropShadow,
  incomingForeignKeys,
  notValid,
  quote,
  rebuildProblems,
  shadowExists,
} from './shadow';

/**
 * Rebuilds PostgreSQL projections from offset zero while the live ones keep serving:
 *
 * 1. The projections' tables are copied, empty, into a shadow schema (`rebuild_<name>_<id>`).
 * 2. Every partition of their topics is read from offset 0 (read_committed, no consumer group),
 *    each record decoded once and applied to every projection that reads it, in transactions that
 *    store the shadow's offsets with its rows (`search_path = <shadow>, public`), so a rebuild
 *    that stops anywhere resumes exactly where it stood.
 * 3. Caught up with the head, the shadow gets its other indexes and statistics.
 * 4. The swap, in ONE transaction: the live projections' offset rows are locked (their runners
 *    wait at their next batch), the shadow takes the events the live tables have and it has not,
 *    the live tables are dropped and the shadow's moved into `public`, the shadow's offsets and
 *    dead letters become the live ones. Readers see the old tables or the new ones, never a mix.
 *
 * Only projections of `allProjections` are rebuilt, and only those fed by events topics (the log
 * of record, kept forever). Projections write nothing but PostgreSQL, so a rebuild sends no
 * webhook, calls no LLM, writes no command: processors (which do) are not projections.
 */

export interface RebuildDeps {
  pool: Pool;
  config: Pick<Config, 'DATABASE_URL' | 'KAFKA_TOPIC_PREFIX'>;
  topics: Topics;
  kafka: KafkaClients;
  kafkaAdmin: Admin;
  codec: MessageCodec;
  logger: Logger;
}

export interface RebuildProgressReport {
  id: string;
  phase: RebuildPhase;
  /** Log records read and applied (each once, whatever the number of projections reading it). */
  records: number;
  /** Applications of a record to a projection. */
  events_applied: number;
  offsets_done: number;
  offsets_total: number;
}

export interface RebuildOptions {
  requestedBy?: string;
  signal?: AbortSignal;
  onProgress?: (progress: RebuildProgressReport) => void;
  /** Partitions applied at once, each in its own transaction (default 4). */
  concurrency?: number;
  /** Records fetched per read (default 2000). */
  batchSize?: number;
  /** Called just before each swap attempt (specs: let the live side move ahead of the shadow). */
  beforeSwap?: () => Promise<void>;
}

export interface RunningRebuild {
  record: RebuildRecord;
  /** Settles when the rebuild has swapped, failed or stopped (then it is interrupted: resumable). */
  done: Promise<RebuildRecord>;
}

/** The stop of a rebuild by its caller (Ctrl-C, a shutdown, a test): it stays resumable. */
export class RebuildInterrupted extends Error {
  constructor(readonly record: RebuildRecord) {
    super(`rebuild ${record.id} stopped; resume it or abandon it`);
  }
}

/** The events topics: the only topics kept forever, so the only ones a rebuild from 0 can read. */
function logTopics(topics: Topics): Set<string> {
  return new Set([topics.identity.events, topics.catalog.events, topics.assessment.events]);
}

/** Why a projection cannot be rebuilt, or undefined. */
export function notRebuildableReason(projection: AnyProjection, topics: Topics): string | undefined {
  const log = logTopics(topics);
  const other = projection.topics(topics).find((t) => !log.has(t));
  if (other) {
    return `it reads ${other}, which is not an events topic (kept for ever): records it no longer holds made rows a rebuild could not make again`;
  }
  if (projection.tables.length === 0) return 'it declares no tables';
  return undefined;
}

/** The projections named (or every rebuildable one, for 'all'), checked. */
export function rebuildTargets(names: readonly string[] | 'all', topics: Topics): AnyProjection[] {
  if (names === 'all') return allProjections.filter((p) => !notRebuildableReason(p, topics));
  const known = allProjections.map((p) => p.name);
  const targets: AnyProjection[] = [];
  for (const name of new Set(names)) {
    const projection = allProjections.find((p) => p.name === name);
    if (!projection) throw rebuildErrors.unknownProjection(name, known);
    const reason = notRebuildableReason(projection, topics);
    if (reason) throw rebuildErrors.notRebuildable(name, reason);
    targets.push(projection);
  }
  if (targets.length === 0) throw rebuildErrors.refused('no projection to rebuild');
  return targets;
}

/** Tables owned by two projections (an error in their declarations). */
export function sharedTables(projections: readonly AnyProjection[]): string[] {
  const owner = new Map<string, string>();
  const shared: string[] = [];
  for (const p of projections) {
    for (const t of p.tables) {
      const first = owner.get(t);
      if (first && first !== p.name) shared.push(`${t} (${first} and ${p.name})`);
      owner.set(t, p.name);
    }
  }
  return shared;
}

/** Starts a rebuild of `names`; refuses when one of them is rebuilding or has an interrupted rebuild. */
export async function startRebuild(
  deps: RebuildDeps,
  names: readonly string[] | 'all',
  options: RebuildOptions = {},
): Promise<RunningRebuild> {
  const projections = rebuildTargets(names, deps.topics);
  const projectionNames = projections.map((p) => p.name);
  await checkRebuildable(deps, projections);
  const session = await lockProjections(deps, projectionNames);
  try {
    const id = randomUUID();
    const label =
      projections.length === 1 ? projections[0]!.name : projections.length === countAll(deps) ? 'all' : 'set';
    await insertRebuild(session, {
      id,
      projections: projectionNames,
      topic_prefix: deps.config.KAFKA_TOPIC_PREFIX,
      shadow_schema: checkIdentifier(`rebuild_${label}_${id.slice(0, 8)}`),
      requested_by: options.requestedBy ?? null,
    });
    const record = (await findRebuild(deps.pool, id))!;
    return { record, done: new Run(deps, record, projections, session, options).run() };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Resumes an interrupted rebuild from the offsets its shadow stored. */
export async function resumeRebuild(
  deps: RebuildDeps,
  id: string,
  options: RebuildOptions = {},
): Promise<RunningRebuild> {
  const found = await findRebuild(deps.pool, id);
  if (!found || found.topic_prefix !== deps.config.KAFKA_TOPIC_PREFIX) throw rebuildErrors.notFound(id);
  if (found.status === 'running') throw rebuildErrors.running(found, found.projections.join(', '));
  if (found.status !== 'interrupted') throw rebuildErrors.finished(found);
  const projections = rebuildTargets(found.projections, deps.topics);
  const session = await RebuildSession.acquire(deps.config.DATABASE_URL, found.projections);
  if (!(session instanceof RebuildSession)) throw rebuildErrors.running(found, session.held);
  try {
    await claimRebuild(session, id);
    const record = (await findRebuild(deps.pool, id))!;
    return { record, done: new Run(deps, record, projections, session, options).run() };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Drops an interrupted rebuild's shadow and marks it cancelled; the live tables are untouched. */
export async function abandonRebuild(deps: Pick<RebuildDeps, 'pool' | 'config'>, id: string): Promise<RebuildRecord> {
  const found = await findRebuild(deps.pool, id);
  if (!found || found.topic_prefix !== deps.config.KAFKA_TOPIC_PREFIX) throw rebuildErrors.notFound(id);
  if (found.status === 'running') throw rebuildErrors.running(found, found.projections.join(', '));
  if (found.status !== 'interrupted') throw rebuildErrors.finished(found);
  const session = await RebuildSession.acquire(deps.config.DATABASE_URL, found.projections);
  if (!(session instanceof RebuildSession)) throw rebuildErrors.running(found, session.held);
  try {
    await dropShadow(deps.pool, found.shadow_schema);
    await finishRebuild(session, id, 'cancelled', found.error);
  } finally {
    await session.release();
  }
  return (await findRebuild(deps.pool, id))!;
}

/** The interrupted rebuild of any of these projections, if there is one (for `--resume`/`--abandon` by name). */
export async function interruptedRebuildOf(
  deps: Pick<RebuildDeps, 'pool' | 'config'>,
  names: readonly string[],
): Promise<RebuildRecord | undefined> {
  const unfinished = await unfinishedRebuilds(deps.pool, names);
  return unfinished.find((r) => r.status === 'interrupted' && r.topic_prefix === deps.config.KAFKA_TOPIC_PREFIX);
}

function countAll(deps: RebuildDeps): number {
  return rebuildTargets('all', deps.topics).length;
}

/** Refusals that need the database: shared tables, tables the swap cannot replace, other systems' rows. */
async function checkRebuildable(deps: RebuildDeps, projections: readonly AnyProjection[]): Promise<void> {
  const shared = sharedTables(allProjections);
  if (shared.length > 0) throw rebuildErrors.refused(`tables declared by two projections: ${shared.join(', ')}`);
  const problems = await rebuildProblems(
    deps.pool,
    projections.flatMap((p) => p.tables),
  );
  if (problems.length > 0) throw rebuildErrors.refused(problems.join('; '));
  const ours = [...new Set(projections.flatMap((p) => p.topics(deps.topics)))];
  const { rows } = await deps.pool.query<{ projection: string; topic: string }>(
    `SELECT DISTINCT projection, topic FROM projection_offsets WHERE projection = ANY($1) AND topic <> ALL($2)
     ORDER BY projection, topic LIMIT 5`,
    [projections.map((p) => p.name), ours],
  );
  if (rows.length > 0) {
    throw rebuildErrors.refused(
      `this database also holds rows made from other topics (${rows.map((r) => `${r.projection} ← ${r.topic}`).join(', ')}): another system shares it, and a rebuild replaces whole tables`,
    );
  }
}

async function lockProjections(deps: RebuildDeps, names: readonly string[]): Promise<RebuildSession> {
  const session = await RebuildSession.acquire(deps.config.DATABASE_URL, names);
  if (!(session instanceof RebuildSession)) {
    const running = (await unfinishedRebuilds(deps.pool, [session.held]))[0];
    throw running
      ? rebuildErrors.running(running, session.held)
      : rebuildErrors.refused(`a rebuild of ${session.held} is starting elsewhere`);
  }
  // Locked: any unfinished rebuild of these projections is one whose process is gone.
  const interrupted = (await unfinishedRebuilds(deps.pool, names))[0];
  if (interrupted) {
    await session.release();
    throw rebuildErrors.interrupted(interrupted, names.filter((n) => interrupted.projections.includes(n)).join(', '));
  }
  return session;
}

interface Partition {
  topic: string;
  partition: number;
}
const keyOf = (topic: string, partition: number) => `${topic}|${partition}`;

/** A failure no resume can cure: the rebuild is marked failed and its shadow dropped. */
class FatalRebuildError extends Error {}

/** Transient failures of a batch are retried this often (with a growing pause) before the rebuild stops. */
const BATCH_ATTEMPTS = 6;
/**
 * The swap waits this long at most for its table locks, then lets go and tries again: shorter than
 * PostgreSQL's deadlock_timeout (1 s), so that when a reader holding one of the tables waits for
 * another the swap holds, the swap gives way and the reader never fails.
 */
const SWAP_LOCK_MS = 200;
/** How long the swap keeps trying (the rebuild stays resumable after). */
const SWAP_DEADLINE_MS = 300_000;
/** Remaining offsets under which the swap is attempted (the rest is applied inside it). */
const SWAP_LAG = 500;
const STALL_MS = 30_000;

class Run {
  private readonly shadowPool: Pool;
  private readonly readersOf = new Map<string, AnyProjection[]>();
  private readonly tables: string[];
  private reader?: PartitionReader;
  private phase: RebuildPhase;
  private records = 0;
  private applied = 0;
  private letters = 0;
  /** Next offset applied, per partition (every projection reading it). */
  private readonly done = new Map<string, number>();
  private readonly heads = new Map<string, number>();
  private readonly logger: Logger;
  private readonly halt = new AbortController();
  private phaseStarted = Date.now();

  constructor(
    private readonly deps: RebuildDeps,
    private readonly record: RebuildRecord,
    private readonly projections: AnyProjection[],
    private readonly session: RebuildSession,
    private readonly options: RebuildOptions,
  ) {
    this.phase = record.phase;
    this.tables = projections.flatMap((p) => p.tables);
    for (const p of projections) {
      for (const topic of p.topics(deps.topics)) this.readersOf.set(topic, [...(this.readersOf.get(topic) ?? []), p]);
    }
    this.logger = deps.logger.child({ component: 'rebuild', rebuild_id: record.id, projections: record.projections });
    // Every connection of the rebuild's own pool sees the shadow's tables first.
    this.shadowPool = createPool({
      connectionString: withSearchPath(deps.config.DATABASE_URL, record.shadow_schema),
      max: Math.max(2, options.concurrency ?? 4),
      applicationName: 'microcred-rebuild',
      logger: deps.logger,
    });
  }

  async run(): Promise<RebuildRecord> {
    const heartbeat = setInterval(() => void this.beat(), 2000);
    const stop = () => this.halt.abort(new Error('stopped'));
    this.options.signal?.addEventListener('abort', stop, { once: true });
    if (this.options.signal?.aborted) stop();
    // Its locks gone with its session, the rebuild is no longer alone: it stops.
    void this.session.lost.then((err) => this.halt.abort(err));
    try {
      await this.steps();
      return (await findRebuild(this.deps.pool, this.record.id))!;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof FatalRebuildError || err instanceof RebuildError) {
        this.logger.error({ err: message }, 'rebuild failed');
        await dropShadow(this.deps.pool, this.record.shadow_schema).catch(() => undefined);
        await finishRebuild(this.session, this.record.id, 'failed', message).catch(() => undefined);
        throw err;
      }
      const stopped = this.options.signal?.aborted;
      this.logger.warn({ err: message }, stopped ? 'rebuild stopped' : 'rebuild interrupted by a failure');
      await recordStop(this.session, this.record.id, stopped ? 'stopped before the swap' : message).catch(
        () => undefined,
      );
      await this.beat();
      await this.session.release();
      const record = (await findRebuild(this.deps.pool, this.record.id).catch(() => undefined)) ?? this.record;
      throw stopped ? new RebuildInterrupted(record) : err;
    } finally {
      clearInterval(heartbeat);
      this.options.signal?.removeEventListener('abort', stop);
      await this.reader?.disconnect().catch(() => undefined);
      await this.shadowPool.end().catch(() => undefined);
      await this.session.release();
    }
  }

  private async steps(): Promise<void> {
    const { shadow_schema: schema } = this.record;
    if (this.phase === 'preparing') {
      await dropShadow(this.deps.pool, schema);
      await createShadow(this.deps.pool, schema, this.tables);
      await this.enter('replaying');
    } else if (!(await shadowExists(this.deps.pool, schema))) {
      throw new FatalRebuildError(`the shadow schema ${schema} is gone; abandon this rebuild and start another`);
    }
    this.reader = this.deps.kafka.partitionReader(`rebuild-${this.record.id.slice(0, 8)}-${process.pid}`);
    await this.reader.connect();
    const partitions = await this.partitions();
    await this.loadDone(partitions);
    this.report();

    if (this.phase === 'replaying') {
      await this.replay(await this.measureHeads(partitions));
      await this.enter('indexing');
    }
    if (this.phase === 'indexing') {
      await createDeferredIndexes(this.shadowPool, schema, this.tables);
      for (const t of this.tables) await this.shadowPool.query(`ANALYZE ${schema}.${t}`);
      await this.enter('swapping');
    }
    await this.swap(partitions);
  }

  /** Every partition of the topics, checked to still hold its records from offset 0. */
  private async partitions(): Promise<Partition[]> {
    const out: Partition[] = [];
    for (const topic of this.readersOf.keys()) {
      const offsets = await this.deps.kafkaAdmin.fetchTopicOffsets(topic, {
        isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED,
        timeout: 10_000,
      });
      for (const o of offsets) {
        if (Number(o.low) > 0) {
          throw new FatalRebuildError(
            `${topic}/${o.partition} no longer starts at offset 0 (its log starts at ${o.low}): rows made from the lost records cannot be rebuilt`,
          );
        }
        out.push({ topic, partition: o.partition });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** The last stable offset of every partition now (the head a read_committed reader can reach). */
  private async measureHeads(partitions: readonly Partition[]): Promise<Map<string, number>> {
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      const offsets = await this.deps.kafkaAdmin.fetchTopicOffsets(topic, {
        isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED,
        timeout: 10_000,
      });
      for (const o of offsets) this.heads.set(keyOf(topic, o.partition), Number(o.offset));
    }
    return new Map(this.heads);
  }

  /** Where the shadow stands per partition: the least offset of the projections reading it. */
  private async loadDone(partitions: readonly Partition[]): Promise<void> {
    const { rows } = await this.shadowPool.query<{
      projection: string;
      topic: string;
      partition: number;
      next: string;
    }>(`SELECT projection, topic, partition, next_offset AS next FROM ${this.record.shadow_schema}.projection_offsets`);
    const stored = new Map(rows.map((r) => [`${r.projection}|${r.topic}|${r.partition}`, Number(r.next)]));
    for (const { topic, partition } of partitions) {
      const offsets = this.readersOf.get(topic)!.map((p) => stored.get(`${p.name}|${topic}|${partition}`) ?? 0);
      this.done.set(keyOf(topic, partition), Math.min(...offsets));
    }
  }

  /**
   * Reads every partition from where the shadow stands up to `until`, applying as it goes: one
   * transaction per partition batch, up to `concurrency` partitions at once, a partition's batches
   * in order.
   */
  private async replay(until: Map<string, number>): Promise<void> {
    const reader = this.reader!;
    const pending = [...until].filter(([k, end]) => (this.done.get(k) ?? 0) < end).map(([k]) => k);
    if (pending.length === 0) return;
    const split = (k: string) => {
      const i = k.lastIndexOf('|');
      return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
    };
    reader.assign(pending.map((k) => ({ ...split(k), offset: this.done.get(k) ?? 0 })));
    const remaining = new Set(pending);
    const chains = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    const limit = 2 * (this.options.concurrency ?? 4);
    let failure: unknown;
    let lastProgress = Date.now();
    try {
      while (remaining.size > 0) {
        if (failure) throw failure;
        this.throwIfStopped();
        const messages = await reader.consume(this.options.batchSize ?? 2000);
        const groups = new Map<string, ReadMessage[]>();
        for (const m of messages) {
          const k = keyOf(m.topic, m.partition);
          if (!groups.has(k)) groups.set(k, []);
          groups.get(k)!.push(m);
        }
        for (const [k, batch] of groups) {
          const job = (chains.get(k) ?? Promise.resolve()).then(() => (failure ? undefined : this.applyBatch(batch)));
          const tracked = job.catch((err: unknown) => {
            failure ??= err;
          });
          chains.set(k, tracked);
          inFlight.add(tracked);
          void tracked.finally(() => inFlight.delete(tracked));
        }
        for (const k of remaining) {
          const { topic, partition } = split(k);
          const position = reader.position(topic, partition);
          if (position !== undefined && position >= until.get(k)!) remaining.delete(k);
        }
        if (messages.length > 0) lastProgress = Date.now();
        else if (Date.now() - lastProgress > STALL_MS) {
          throw new Error(`reading ${[...remaining].join(', ')} made no progress for ${STALL_MS / 1000} s`);
        }
        while (inFlight.size >= limit && !failure) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failure) throw failure;
      // Read to its target: what is left below it are transaction markers, which carry no record.
      for (const k of pending) this.done.set(k, Math.max(this.done.get(k) ?? 0, until.get(k)!));
    } finally {
      await Promise.allSettled(inFlight);
      reader.unassign();
    }
  }

  /** One partition's batch into the shadow, every projection that reads it, in one transaction. */
  private async applyBatch(messages: ReadMessage[]): Promise<void> {
    const { topic, partition } = messages[0]!;
    const next = messages[messages.length - 1]!.offset + 1;
    const decoded = await this.decode(topic, messages);
    for (let attempt = 1; ; attempt++) {
      try {
        let letters: DeadLetterEntry[];
        try {
          letters = await this.applyInTransaction(topic, partition, decoded, next, false);
        } catch (err) {
          if (!isPoison(err)) throw err;
          // Some event cannot be applied: one by one, to set it aside.
          letters = await this.applyInTransaction(topic, partition, decoded, next, true);
        }
        this.records += messages.length;
        this.letters += letters.length;
        for (const l of letters) {
          this.logger.warn(
            { topic, partition, offset: l.offset, aggregate_id: l.aggregate_id, reason: l.reason, error: l.error },
            'rebuild: event set aside (dead-lettered in the shadow)',
          );
        }
        const k = keyOf(topic, partition);
        this.done.set(k, Math.max(this.done.get(k) ?? 0, next));
        this.report();
        return;
      } catch (err) {
        if (attempt >= BATCH_ATTEMPTS || this.halt.signal.aborted) throw err;
        this.logger.warn({ err: (err as Error).message, topic, partition, attempt }, 'rebuild batch failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  private async decode(topic: string, messages: readonly ReadMessage[]): Promise<Map<AnyProjection, DecodedRecord[]>> {
    const out = new Map<AnyProjection, DecodedRecord[]>();
    let shared: DecodedRecord[] | undefined;
    for (const p of this.readersOf.get(topic)!) {
      if (p.decode) out.set(p, await decodeRecords(this.deps.codec, p, messages));
      else out.set(p, (shared ??= await decodeRecords(this.deps.codec, undefined, messages)));
    }
    return out;
  }

  private async applyInTransaction(
    topic: string,
    partition: number,
    decoded: Map<AnyProjection, DecodedRecord[]>,
    next: number,
    isolate: boolean,
  ): Promise<DeadLetterEntry[]> {
    return inTransaction(this.shadowPool, async (client) => {
      // A crash loses at most the last commits, and their offsets with them: safe to resume.
      await client.query('SET LOCAL synchronous_commit = off');
      return this.applyAll(client, topic, partition, decoded, next, isolate);
    });
  }

  private async applyAll(
    client: PoolClient,
    topic: string,
    partition: number,
    decoded: Map<AnyProjection, DecodedRecord[]>,
    next: number,
    isolate: boolean,
  ): Promise<DeadLetterEntry[]> {
    const letters: DeadLetterEntry[] = [];
    let applied = 0;
    // Record by record in projection order would be the live order; projection by projection is
    // the same result (each projection sees its own records in order) with fewer plan switches.
    for (const [projection, records] of decoded) {
      const outcome = await applyRecords(client, projection, topic, partition, records, next, isolate);
      applied += outcome.applied;
      letters.push(...outcome.letters);
    }
    this.applied += applied;
    return letters;
  }

  /** Catches up until the remaining lag is small, then swaps; retried when the swap cannot take its locks in time. */
  private async swap(partitions: readonly Partition[]): Promise<void> {
    const deadline = Date.now() + SWAP_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      for (let pass = 0; pass < 10; pass++) {
        const heads = await this.measureHeads(partitions);
        const lag = [...heads].reduce((sum, [k, end]) => sum + Math.max(0, end - (this.done.get(k) ?? 0)), 0);
        if (lag <= SWAP_LAG) break;
        await this.replay(heads);
      }
      this.throwIfStopped();
      await this.options.beforeSwap?.();
      try {
        await this.swapOnce(partitions);
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        // lock_timeout, deadlock, serialization: readers or the live side were busy; try again.
        if (Date.now() > deadline || !(code === '55P03' || code === '40P01' || code === '40001')) throw err;
        this.logger.info({ err: (err as Error).message, attempt }, 'swap could not take its locks; retrying');
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * attempt) + Math.random() * 100));
        await this.loadDone(partitions);
      }
    }
  }

  private async swapOnce(partitions: readonly Partition[]): Promise<void> {
    const { shadow_schema: schema, id } = this.record;
    const names = this.projections.map((p) => p.name);
    const ours = [...this.readersOf.keys()];
    const rows = this.projections.flatMap((p) =>
      partitions.filter((x) => p.topics(this.deps.topics).includes(x.topic)).map((x) => ({ projection: p.name, ...x })),
    );
    const client = await this.shadowPool.connect();
    let failed: Error | undefined;
    let newLetters: (DeadLetterEntry & { projection: string })[];
    let foreignKeys: Awaited<ReturnType<typeof incomingForeignKeys>>;
    try {
      await client.query('BEGIN');
      // The live runners' batches finish before the swap can lock their offsets.
      await client.query(`SET LOCAL lock_timeout = '10s'`);
      // 1. Pause the live runners: their next batch waits on these rows until the commit.
      await client.query(
        `INSERT INTO public.projection_offsets (projection, topic, partition, next_offset)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) ON CONFLICT DO NOTHING`,
        [rows.map((r) => r.projection), rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map(() => 0)],
      );
      const { rows: live } = await client.query<{ projection: string; topic: string; partition: number; next: string }>(
        `SELECT projection, topic, partition, next_offset AS next FROM public.projection_offsets
         WHERE projection = ANY($1) AND topic = ANY($2) ORDER BY projection, topic, partition FOR UPDATE`,
        [names, ours],
      );
      // 2. The shadow takes what the live tables have that it has not, in this transaction.
      await this.catchUpTo(client, live);
      await client.query(
        `INSERT INTO ${schema}.projection_offsets (projection, topic, partition, next_offset)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])
         ON CONFLICT (projection, topic, partition) DO UPDATE
         SET next_offset = GREATEST(${schema}.projection_offsets.next_offset, EXCLUDED.next_offset)`,
        [
          live.map((r) => r.projection),
          live.map((r) => r.topic),
          live.map((r) => r.partition),
          live.map((r) => r.next),
        ],
      );
      // 3. The live definitions must still be the shadow's (no migration in between).
      const changed = await changedTables(client, schema, this.tables);
      if (changed.length > 0) {
        throw new FatalRebuildError(
          `the live tables changed since the rebuild began (${changed.join(', ')}; a migration ran?): rebuild again`,
        );
      }
      const problems = await rebuildProblems(this.deps.pool, this.tables);
      if (problems.length > 0) throw new FatalRebuildError(problems.join('; '));
      // 4. The swap. Foreign keys from other tables to these are re-made on the new tables.
      foreignKeys = await incomingForeignKeys(client, this.tables);
      // Every table the swap alters, locked at once, in one order; readers queue behind (briefly).
      const locked = [
        ...new Set([...this.tables.map((t) => `public.${t}`), ...foreignKeys.map((k) => k.source)]),
      ].sort();
      await client.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_MS}ms'`);
      await client.query(`LOCK TABLE ${locked.join(', ')} IN ACCESS EXCLUSIVE MODE`);
      for (const fk of foreignKeys) await client.query(`ALTER TABLE ${fk.source} DROP CONSTRAINT ${quote(fk.name)}`);
      await client.query(`DROP TABLE ${this.tables.map((t) => `public.${t}`).join(', ')}`);
      for (const t of this.tables) await client.query(`ALTER TABLE ${schema}.${t} SET SCHEMA public`);
      for (const fk of foreignKeys) {
        await client.query(`ALTER TABLE ${fk.source} ADD CONSTRAINT ${quote(fk.name)} ${notValid(fk.def)}`);
      }
      // 5. The shadow's position and dead letters become the live ones.
      await client.query(
        `INSERT INTO public.projection_offsets (projection, topic, partition, next_offset)
         SELECT projection, topic, partition, next_offset FROM ${schema}.projection_offsets
         ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = NOW()`,
      );
      const { rows: before } = await client.query<{ k: string }>(
        `DELETE FROM public.projection_dead_letters WHERE projection = ANY($1) AND topic = ANY($2) AND status = 'open'
         RETURNING projection || '|' || topic || '|' || partition || '|' || "offset" AS k`,
        [names, ours],
      );
      const previouslyOpen = new Set(before.map((r) => r.k));
      const { rows: letters } = await client.query<DeadLetterEntry & { projection: string; offset: string }>(
        `INSERT INTO public.projection_dead_letters
           (projection, topic, partition, "offset", aggregate_id, event_type, reason, status, error, value, created_at)
         SELECT projection, topic, partition, "offset", aggregate_id, event_type, reason, status, error, value, created_at
         FROM ${schema}.projection_dead_letters
         ON CONFLICT (projection, topic, partition, "offset") DO UPDATE SET
           aggregate_id = EXCLUDED.aggregate_id, event_type = EXCLUDED.event_type, reason = EXCLUDED.reason,
           status = EXCLUDED.status, error = EXCLUDED.error, value = EXCLUDED.value, created_at = EXCLUDED.created_at,
           replayed_at = NULL
         RETURNING projection, topic, partition, "offset", aggregate_id, event_type, reason, error, value`,
      );
      newLetters = letters
        .map((l) => ({ ...l, offset: Number(l.offset) }))
        .filter((l) => !previouslyOpen.has(`${l.projection}|${l.topic}|${l.partition}|${l.offset}`));
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      this.phase = 'done';
      const progress = this.progress();
      await client.query(
        `UPDATE public.projection_rebuilds SET status = 'swapped', phase = 'done', events_applied = $2,
           offsets_done = $3, offsets_total = $4, finished_at = NOW(), heartbeat_at = NOW(), error = NULL WHERE id = $1`,
        [id, progress.events_applied, progress.offsets_done, progress.offsets_total],
      );
      await client.query('COMMIT');
    } catch (err) {
      failed = err as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      if (this.phase === 'done') this.phase = 'swapping';
      throw err;
    } finally {
      client.release(failed);
    }
    this.report();
    this.logger.info(
      { letters: this.letters, records: this.records, swap_seconds: (Date.now() - this.phaseStarted) / 1000 },
      'rebuild swapped in',
    );
    await recordWarnings(this.session, id, await this.afterSwap(foreignKeys, newLetters));
  }

  /**
   * Reads, inside the swap's transaction, each partition where a live projection is ahead of the
   * shadow, up to the live offset (no further: the live side stops there), and applies it.
   */
  private async catchUpTo(
    client: PoolClient,
    live: { projection: string; topic: string; partition: number; next: string }[],
  ): Promise<void> {
    const target = new Map<string, number>();
    for (const r of live) {
      const k = keyOf(r.topic, r.partition);
      target.set(k, Math.max(target.get(k) ?? 0, Number(r.next)));
    }
    const behind = [...target].filter(([k, end]) => (this.done.get(k) ?? 0) < end);
    if (behind.length === 0) return;
    this.logger.info(
      { partitions: behind.map(([k, end]) => `${k}: ${this.done.get(k) ?? 0} → ${end}`) },
      'the live side is ahead: catching up inside the swap',
    );
    const reader = this.reader!;
    for (const [k, end] of behind) {
      const i = k.lastIndexOf('|');
      const topic = k.slice(0, i);
      const partition = Number(k.slice(i + 1));
      reader.assign([{ topic, partition, offset: this.done.get(k) ?? 0 }]);
      try {
        const started = Date.now();
        for (;;) {
          const batch = (await reader.consume(this.options.batchSize ?? 2000)).filter((m) => m.offset < end);
          if (batch.length > 0) {
            const next = batch[batch.length - 1]!.offset + 1;
            const decoded = await this.decode(topic, batch);
            await client.query('SAVEPOINT catch_up');
            try {
              await this.applyAll(client, topic, partition, decoded, next, false);
            } catch (err) {
              if (!isPoison(err)) throw err;
              await client.query('ROLLBACK TO SAVEPOINT catch_up');
              await this.applyAll(client, topic, partition, decoded, next, true);
            }
            await client.query('RELEASE SAVEPOINT catch_up');
            this.records += batch.length;
          }
          if ((reader.position(topic, partition) ?? 0) >= end) break;
          if (Date.now() - started > STALL_MS) throw new Error(`catching up ${k} to ${end} took too long`);
        }
      } finally {
        reader.unassign();
      }
      this.done.set(k, end);
    }
  }

  /** After the commit: foreign keys validated again (outside the swap's locks), new dead letters published. */
  private async afterSwap(
    foreignKeys: Awaited<ReturnType<typeof incomingForeignKeys>>,
    letters: (DeadLetterEntry & { projection: string })[],
  ): Promise<string[]> {
    const warnings: string[] = [];
    for (const fk of foreignKeys.filter((k) => k.validated)) {
      try {
        await this.deps.pool.query(`ALTER TABLE ${fk.source} VALIDATE CONSTRAINT ${quote(fk.name)}`);
      } catch (err) {
        warnings.push(
          `foreign key ${fk.name} of ${fk.source} does not hold on the rebuilt rows (${(err as Error).message}); it stays NOT VALID`,
        );
      }
    }
    if (letters.length > 0) {
      warnings.push(
        `${letters.length} event(s) newly dead-lettered by the rebuild: see \`microcred deadletters list\``,
      );
      const producer = this.deps.kafka.producer('rebuild-deadletters');
      try {
        await producer.connect();
        await producer.send({
          topic: this.deps.topics.deadLetter,
          messages: letters.map((l) => ({
            key: l.aggregate_id,
            value: l.value,
            headers: {
              reason: l.reason,
              projection: l.projection,
              source_topic: l.topic,
              source_partition: String(l.partition),
              source_offset: String(l.offset),
              aggregate_id: l.aggregate_id,
              error: `${l.error.name}: ${l.error.message}`.slice(0, 500),
            },
          })),
        });
      } catch (err) {
        warnings.push(`the new dead letters could not be copied to the dead-letter topic: ${(err as Error).message}`);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
    for (const w of warnings) this.logger.warn(w);
    return warnings;
  }

  private throwIfStopped(): void {
    if (this.halt.signal.aborted) throw this.halt.signal.reason;
  }

  private progress() {
    let done = 0;
    let total = 0;
    for (const [k, end] of this.heads) {
      total += end;
      done += Math.min(end, this.done.get(k) ?? 0);
    }
    return { phase: this.phase, events_applied: this.applied, offsets_done: done, offsets_total: total };
  }

  private report(): void {
    this.options.onProgress?.({ id: this.record.id, records: this.records, ...this.progress() });
  }

  /** A new phase, recorded at once (a process killed right after still shows where it was). */
  private async enter(phase: RebuildPhase): Promise<void> {
    const now = Date.now();
    this.logger.info(
      { phase: this.phase, seconds: (now - this.phaseStarted) / 1000, records: this.records },
      'rebuild phase done',
    );
    this.phaseStarted = now;
    this.phase = phase;
    this.report();
    await this.beat();
  }

  private async beat(): Promise<void> {
    if (this.phase === 'done') return;
    await recordProgress(this.session, this.record.id, this.progress()).catch((err: unknown) =>
      this.logger.warn({ err: (err as Error).message }, 'rebuild heartbeat failed'),
    );
  }
}

/** The connection string with `search_path = <schema>, public` for every connection made from it. */
function withSearchPath(connectionString: string, schema: string): string {
  const url = new URL(connectionString);
  url.searchParams.set('options', `-c search_path=${checkIdentifier(schema)},public`);
  return url.toString();
}
