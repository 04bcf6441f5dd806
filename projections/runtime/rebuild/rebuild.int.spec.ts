import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  allProjections,
  assessmentsProjection,
  auditProjection,
  commandOutcomesProjection,
  usersProjection,
} from '../..';
import { cli } from '../../../services/replay/testing/cliRun';
import { repoPath } from '../../../services/platform/paths';
import { eventually } from '../../../test/support/platform';
import { createTestbed, type Testbed } from '../../audit/testing/testbed';
import type { ContextName } from '../../../services/messaging/envelopes';
import {
  abandonRebuild,
  RebuildInterrupted,
  rebuildTargets,
  resumeRebuild,
  sharedTables,
  startRebuild,
  type RebuildDeps,
} from './rebuild';
import { findRebuild, listRebuilds, type RebuildRecord } from './registry';
import { HistoryGenerator, type GeneratedEvent } from './testing/history';

jest.setTimeout(240_000);

/**
 * Rebuilds on the real stack: a database of their own (the testbed's), topics of their own, a
 * generated history decided by the real deciders, every projection's live runner running. The
 * reference is what the live runners made from the same log: a rebuild must give exactly those
 * rows (every table, every column), and readers must never see anything else meanwhile.
 */
let bed: Testbed;
let deps: RebuildDeps;
let env: Record<string, string>;
const generator = new HistoryGenerator({ seed: 7, students: 60, namespace: 'rebuild-spec' });
let assessments = 0;
const rebuildable = () => rebuildTargets('all', bed.platform.topics);
const tablesOf = (names: readonly string[]) =>
  allProjections.filter((p) => names.includes(p.name)).flatMap((p) => [...p.tables]);

async function publish(events: Iterable<GeneratedEvent>): Promise<void> {
  const byContext = new Map<ContextName, GeneratedEvent['envelope'][]>();
  for (const e of events) byContext.set(e.context, [...(byContext.get(e.context) ?? []), e.envelope]);
  for (const [context, envelopes] of byContext) await bed.publish(context, envelopes);
}

/**
 * The next `n` assessments' events, their starts first (written when the live essay_scores
 * projection still took its ids from the assessments projection's snapshot rows and dropped a
 * score that ran ahead of them; migration 0016 ended that, and the order does no harm).
 */
async function publishAssessments(n: number): Promise<void> {
  const events: GeneratedEvent[] = [];
  for (let i = 0; i < n; i++) events.push(...generator.assessment(assessments++));
  await publish(events.filter((e) => e.envelope.type === 'AssessmentStarted'));
  await bed.caughtUp(assessmentsProjection);
  await publish(events.filter((e) => e.envelope.type !== 'AssessmentStarted'));
}

async function caughtUp(): Promise<void> {
  for (const p of allProjections) await bed.caughtUp(p);
}

/** Every row of every table, all columns, in a stable order. */
async function snapshot(tables: readonly string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of [...tables].sort()) {
    const { rows } = await bed.platform.pool.query<{ row: string }>(
      `SELECT to_jsonb(t)::text AS row FROM public.${t} t ORDER BY 1`,
    );
    out[t] = rows.map((r) => r.row);
  }
  return out;
}

/** Row counts of a table set. */
const counts = (snap: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(snap).map(([t, rows]) => [t, rows.length]));

/**
 * Readers during a rebuild, two at once: every table counted in one statement (one reader takes
 * the tables in one order, the other in the reverse: a swap must never deadlock with either) and
 * the assessment queries' joins, again and again. Each read must see the tables whole: exactly
 * `expected` rows (no writes meanwhile), or at least as many (`growing`).
 */
function readLoop(expected: Record<string, number>, growing = false) {
  let stop = false;
  let reads = 0;
  const problems: string[] = [];
  const reader = async (tables: string[]) => {
    while (!stop) {
      try {
        const { rows } = await bed.platform.pool.query<Record<string, number>>(
          `SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`,
        );
        for (const t of tables) {
          const n = rows[0]![t]!;
          if (growing ? n < expected[t]! : n !== expected[t]) problems.push(`${t}: ${n} rows, expected ${expected[t]}`);
        }
        const { rows: joined } = await bed.platform.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM assessments a JOIN assessment_question_snapshots s ON s.assessment_id = a.id
           JOIN users u ON u.id = a.user_id`,
        );
        if (joined[0]!.n === 0) problems.push('the assessments join came back empty');
        reads++;
      } catch (err) {
        problems.push(`a read failed: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const loops = Promise.all([reader(Object.keys(expected)), reader(Object.keys(expected).reverse())]);
  return {
    async finish() {
      stop = true;
      await loops;
      return { reads, problems };
    },
  };
}

async function shadowSchemas(): Promise<string[]> {
  const { rows } = await bed.platform.pool.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'rebuild\\_%'`,
  );
  return rows.map((r) => r.name);
}

beforeAll(async () => {
  bed = await createTestbed();
  deps = { ...bed.platform, codec: bed.codec };
  env = {
    DATABASE_URL: bed.platform.config.DATABASE_URL,
    KAFKA_TOPIC_PREFIX: bed.platform.config.KAFKA_TOPIC_PREFIX,
    KAFKA_PARTITIONS: '3',
    LOG_LEVEL: 'error',
  };
  await publish(generator.setup());
  for (const p of allProjections) await bed.startRunner(p);
  await publishAssessments(150);
  await caughtUp();
});

afterAll(async () => {
  await bed?.close();
});

test('every projection declares its tables, and no table belongs to two', () => {
  for (const p of allProjections) expect({ [p.name]: p.tables.length > 0 }).toEqual({ [p.name]: true });
  expect(sharedTables(allProjections)).toEqual([]);
  // Every rebuildable projection but the one fed by the short-lived replies topic.
  expect(rebuildable().map((p) => p.name)).toEqual(
    allProjections.filter((p) => p !== commandOutcomesProjection).map((p) => p.name),
  );
});

test('every projection rebuilt from zero: exactly the live rows, table by table, while queries keep answering', async () => {
  const tables = tablesOf(rebuildable().map((p) => p.name));
  const before = await snapshot(tables);
  expect(before.assessments!.length).toBeGreaterThan(100);
  expect(before.audit_logs!.length).toBeGreaterThan(3000);
  const readers = readLoop(counts(before));
  const progress: string[] = [];
  const { record, done } = await startRebuild(deps, 'all', { onProgress: (p) => progress.push(p.phase) });
  expect(record).toMatchObject({ status: 'running', phase: 'preparing' });
  const finished = await done;
  const { reads, problems } = await readers.finish();

  expect(finished).toMatchObject({ id: record.id, status: 'swapped', phase: 'done', error: null, warnings: [] });
  expect(finished.projections.sort()).toEqual(
    rebuildable()
      .map((p) => p.name)
      .sort(),
  );
  expect(new Set(progress)).toEqual(new Set(['replaying', 'indexing', 'swapping', 'done']));
  expect(problems).toEqual([]);
  expect(reads).toBeGreaterThan(5);
  expect(await snapshot(tables)).toEqual(before);
  expect(await shadowSchemas()).toEqual([]);
  // The live runners carry on from the swapped offsets.
  await publishAssessments(3);
  await caughtUp();
  expect((await snapshot(['assessments'])).assessments!.length).toBe(before.assessments!.length + 3);
});

test('events written during a rebuild: the swap takes what the live tables have, and the result is a rebuild from zero', async () => {
  const tables = tablesOf(rebuildable().map((p) => p.name));
  const before = await snapshot(tables);
  const readers = readLoop(counts(before), true);
  const { done } = await startRebuild(deps, 'all', { batchSize: 200, concurrency: 2 });
  for (let i = 0; i < 4; i++) {
    await publishAssessments(10);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await done).toMatchObject({ status: 'swapped' });
  await caughtUp();
  const { problems } = await readers.finish();
  expect(problems).toEqual([]);
  const after = await snapshot(tables);
  expect(after.assessments!.length).toBe(before.assessments!.length + 40);
  // Nothing written meanwhile: a second rebuild gives these very rows.
  expect(await (await startRebuild(deps, 'all')).done).toMatchObject({ status: 'swapped' });
  expect(await snapshot(tables)).toEqual(after);
});

test('the live side ahead of the shadow at the swap: the swap applies the difference first, in its transaction', async () => {
  const tables = tablesOf(rebuildable().map((p) => p.name));
  const before = counts(await snapshot(tables));
  let ahead = false;
  const { done } = await startRebuild(deps, 'all', {
    beforeSwap: async () => {
      if (ahead) return;
      ahead = true;
      // Written and projected live after the shadow's last read: only the swap can bring them over.
      await publishAssessments(5);
      await caughtUp();
    },
  });
  expect(await done).toMatchObject({ status: 'swapped' });
  const after = await snapshot(tables);
  expect(after.assessments!.length).toBe(before.assessments! + 5);
  expect(await (await startRebuild(deps, 'all')).done).toMatchObject({ status: 'swapped' });
  expect(await snapshot(tables)).toEqual(after);
});

test('a second rebuild of a projection is refused while one runs', async () => {
  const first = await startRebuild(deps, [auditProjection.name, usersProjection.name], {
    batchSize: 10,
    concurrency: 1,
  });
  await expect(startRebuild(deps, [auditProjection.name])).rejects.toMatchObject({
    code: 'REBUILD_RUNNING',
    status: 409,
    details: { rebuild_id: first.record.id },
  });
  const run = await cli(env, 'projections', 'rebuild', 'users');
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    `microcred: a rebuild of users is already running (rebuild ${first.record.id}, in ${first.record.runner})\n`,
  );
  expect(await first.done).toMatchObject({ status: 'swapped' });
  // Once it is over, the next one goes.
  expect(await (await startRebuild(deps, [auditProjection.name])).done).toMatchObject({ status: 'swapped' });
});

test('stopped mid-way: the live tables are untouched, a new rebuild is refused, and the resumed one swaps the same rows', async () => {
  const names = rebuildable().map((p) => p.name);
  const tables = tablesOf(names);
  const before = await snapshot(tables);
  const controller = new AbortController();
  const { record, done } = await startRebuild(deps, 'all', {
    batchSize: 25,
    concurrency: 1,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.records >= 500) controller.abort();
    },
  });
  await expect(done).rejects.toBeInstanceOf(RebuildInterrupted);
  const stopped = (await findRebuild(bed.platform.pool, record.id))!;
  expect(stopped).toMatchObject({ status: 'interrupted', phase: 'replaying', error: 'stopped before the swap' });
  expect(stopped.offsets_done).toBeGreaterThan(0);
  expect(stopped.offsets_done).toBeLessThan(stopped.offsets_total);
  expect(await shadowSchemas()).toEqual([record.shadow_schema]);
  expect(await snapshot(tables)).toEqual(before);

  await expect(startRebuild(deps, [usersProjection.name])).rejects.toMatchObject({
    code: 'REBUILD_INTERRUPTED',
    details: { rebuild_id: record.id },
  });
  const status = await cli(env, 'projections', 'rebuilds', '--json');
  expect(JSON.parse(status.stdout).rebuilds[0]).toMatchObject({ id: record.id, status: 'interrupted' });

  const resumed = await resumeRebuild(deps, record.id);
  const finished = await resumed.done;
  expect(finished).toMatchObject({ id: record.id, status: 'swapped' });
  expect(await snapshot(tables)).toEqual(before);
  expect(await shadowSchemas()).toEqual([]);
});

test('stopped, then abandoned: the shadow is dropped and nothing else changes', async () => {
  const tables = tablesOf([auditProjection.name]);
  const before = await snapshot(tables);
  const controller = new AbortController();
  const { record, done } = await startRebuild(deps, [auditProjection.name], {
    batchSize: 25,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.records >= 200) controller.abort();
    },
  });
  await expect(done).rejects.toBeInstanceOf(RebuildInterrupted);
  const run = await cli(env, 'projections', 'rebuild', 'audit', '--abandon');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(run.stdout).toBe(`abandoned rebuild ${record.id} of audit; the live tables are unchanged\n`);
  expect(await findRebuild(bed.platform.pool, record.id)).toMatchObject({ status: 'cancelled' });
  expect(await shadowSchemas()).toEqual([]);
  expect(await snapshot(tables)).toEqual(before);
  await expect(abandonRebuild(deps, record.id)).rejects.toMatchObject({ code: 'REBUILD_FINISHED' });
});

test('killed (SIGKILL) in another process: its locks go with it, and the rebuild resumes from its shadow', async () => {
  const entry = repoPath('dist', 'services', 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\``);
  const tables = tablesOf([auditProjection.name]);
  const before = await snapshot(tables);
  const child = spawn(
    process.execPath,
    [entry, 'projections', 'rebuild', 'audit', '--batch-size', '10', '--concurrency', '1'],
    { env: { ...process.env, ...env }, stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = await eventually(async () => {
    const [latest] = await listRebuilds(bed.platform.pool, env.KAFKA_TOPIC_PREFIX!, 1);
    if (latest?.status !== 'running') return undefined;
    const { rows } = await bed.platform.pool
      .query<{ n: string }>(`SELECT coalesce(sum(next_offset), 0) AS n FROM ${latest.shadow_schema}.projection_offsets`)
      .catch(() => ({ rows: [{ n: '0' }] }));
    return Number(rows[0]!.n) > 50 ? latest : undefined;
  }, 60_000);
  child.kill('SIGKILL');
  await exited;
  const killed = await eventually(async () => {
    const r = await findRebuild(bed.platform.pool, running.id);
    return r?.status === 'interrupted' ? r : undefined;
  });
  expect(killed.phase).toBe('replaying');
  expect(await snapshot(tables)).toEqual(before);

  const run = await cli(env, 'projections', 'rebuild', 'audit', '--resume', '--json');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout).rebuild).toMatchObject({ id: running.id, status: 'swapped' });
  expect(await snapshot(tables)).toEqual(before);
});

test('poison events: dead-lettered in the shadow as they were live, and the same letters after the swap', async () => {
  // A record no schema describes, amid an aggregate's events: every identity projection sets it aside.
  const producer = bed.platform.kafka.producer();
  await producer.connect();
  await producer.send({
    topic: bed.platform.topics.identity.events,
    messages: [{ key: 'poisoned-aggregate', value: Buffer.from('not avro at all') }],
  });
  await producer.disconnect();
  await caughtUp();
  const letters = async () =>
    (
      await bed.platform.pool.query(
        `SELECT projection, topic, partition, "offset", aggregate_id, reason, status, error->>'name' AS error
         FROM projection_dead_letters WHERE topic = $1 ORDER BY projection, partition, "offset"`,
        [bed.platform.topics.identity.events],
      )
    ).rows;
  const live = await letters();
  expect(live.map((l) => l.projection).sort()).toEqual(
    allProjections
      .filter((p) => p.topics(bed.platform.topics).includes(bed.platform.topics.identity.events))
      .map((p) => p.name)
      .sort(),
  );
  const finished = await (await startRebuild(deps, 'all')).done;
  expect(finished).toMatchObject({ status: 'swapped', warnings: [] });
  expect(await letters()).toEqual(live);
});

test('refusals: unknown names, projections the log cannot rebuild, processors, a database shared with another system', async () => {
  await expect(startRebuild(deps, ['nope'])).rejects.toMatchObject({ code: 'PROJECTION_NOT_FOUND', status: 404 });
  await expect(startRebuild(deps, ['processor.essay-scoring'])).rejects.toMatchObject({ code: 'PROJECTION_NOT_FOUND' });
  await expect(startRebuild(deps, [commandOutcomesProjection.name])).rejects.toMatchObject({
    code: 'PROJECTION_NOT_REBUILDABLE',
    message: expect.stringContaining(`it reads ${bed.platform.topics.replies}`),
  });
  const unknown = await cli(env, 'projections', 'rebuild', 'nope');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/^microcred: unknown projection "nope"; known: command_outcomes, users, .*\n$/);
  expect((await cli(env, 'projections', 'rebuild')).stderr).toBe('microcred: name a projection, or give --all\n');

  await bed.platform.pool.query(
    `INSERT INTO projection_offsets (projection, topic, partition, next_offset) VALUES ('users', 'other.identity.events', 0, 5)`,
  );
  try {
    await expect(startRebuild(deps, ['users'])).rejects.toMatchObject({
      code: 'REBUILD_REFUSED',
      message: expect.stringContaining('users ← other.identity.events'),
    });
  } finally {
    await bed.platform.pool.query(`DELETE FROM projection_offsets WHERE topic = 'other.identity.events'`);
  }
});

test('a rebuild leaves no record unfinished behind it', async () => {
  const rebuilds: RebuildRecord[] = await listRebuilds(bed.platform.pool, env.KAFKA_TOPIC_PREFIX!, 100);
  expect(rebuilds.filter((r) => r.status === 'running' || r.status === 'interrupted')).toEqual([]);
  expect(await shadowSchemas()).toEqual([]);
});
