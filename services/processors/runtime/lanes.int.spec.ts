import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { loadConfig } from '../../platform/config';
import { inTransaction } from '../../platform/postgres/pool';
import { JobIntake, JobStore, type Job, type NewJob } from './jobs';

// The job table's lanes against real PostgreSQL: per-lane caps, per-key order, paused lanes,
// deferred and requeued jobs (what the webhook deliverer builds on).

let pool: Pool;
let scope: string;
const TYPE = 'lane_spec';

beforeAll(() => {
  pool = new Pool({ connectionString: loadConfig(process.env).DATABASE_URL, max: 4 });
});
beforeEach(() => {
  scope = `lanes-${randomUUID().slice(0, 8)}`;
});
afterEach(async () => {
  await pool.query('DELETE FROM async_jobs WHERE scope = $1', [scope]);
  await pool.query('DELETE FROM async_job_lanes WHERE scope = $1', [scope]);
});
afterAll(async () => {
  await pool.end();
});

function intake<T>(work: (jobs: JobIntake<{ n: number }>) => Promise<T>): Promise<T> {
  return inTransaction(pool, (client) => work(new JobIntake<{ n: number }>(client, scope, TYPE)));
}

async function create(...jobs: Omit<NewJob<{ n: number }>, 'status' | 'assessment_id'>[]) {
  await intake(async (j) => {
    for (const job of jobs) await j.create({ ...job, status: 'queued', assessment_id: null });
  });
}

const keys = (jobs: Job<unknown>[]) => jobs.map((j) => j.key).sort();

describe('lanes of the job table', () => {
  test('at most laneConcurrency jobs of a lane run at once; jobs without a lane are not capped', async () => {
    const store = new JobStore(pool, scope, TYPE, 2);
    await create(
      // Due at the same moment: their seq says which go first.
      { key: 'a3', lane: 'A', seq: 3, payload: { n: 3 } },
      { key: 'a1', lane: 'A', seq: 1, payload: { n: 1 } },
      { key: 'a2', lane: 'A', seq: 2, payload: { n: 2 } },
      { key: 'b1', lane: 'B', payload: { n: 4 } },
      { key: 'x1', payload: { n: 5 } },
      { key: 'x2', payload: { n: 6 } },
      { key: 'x3', payload: { n: 7 } },
    );
    const first = await store.claim(`w1`, 10, 60_000);
    expect(keys(first)).toEqual(['a1', 'a2', 'b1', 'x1', 'x2', 'x3']);
    expect(first.find((j) => j.key === 'a1')?.lane).toBe('A');
    // Lane A is full: another worker gets nothing of it until one of its jobs ends.
    expect(await store.claim('w2', 10, 60_000)).toEqual([]);
    await store.finish(
      first.find((j) => j.key === 'a1')!,
      'w1',
      'succeeded',
      null,
    );
    expect(keys(await store.claim('w2', 10, 60_000))).toEqual(['a3']);
  });

  test('two workers claiming at once never exceed a lane’s cap', async () => {
    const store = new JobStore(pool, scope, TYPE, 3);
    await create(...Array.from({ length: 20 }, (_, i) => ({ key: `a${i}`, lane: 'A', payload: { n: i } })));
    const claims = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => store.claim(w, 10, 60_000)));
    expect(claims.flat()).toHaveLength(3);
  });

  test('jobs of one order key run one at a time, in sequence order, whatever their due times', async () => {
    const store = new JobStore(pool, scope, TYPE, 10);
    await create(
      { key: 'k3', lane: 'A', orderKey: 'A/x', seq: 30, payload: { n: 3 } },
      { key: 'k1', lane: 'A', orderKey: 'A/x', seq: 10, payload: { n: 1 } },
      { key: 'k2', lane: 'A', orderKey: 'A/x', seq: 20, payload: { n: 2 } },
      { key: 'y1', lane: 'A', orderKey: 'A/y', seq: 5, payload: { n: 4 } },
    );
    const first = await store.claim('w', 10, 60_000);
    expect(keys(first)).toEqual(['k1', 'y1']);
    // k1 fails and waits for its retry: k2 still waits behind it.
    await store.retryLater(
      first.find((j) => j.key === 'k1')!,
      'w',
      0,
      { message: 'boom' },
    );
    const again = await store.claim('w', 10, 60_000);
    expect(keys(again)).toEqual(['k1']);
    await store.finish(again[0]!, 'w', 'failed', null); // dead-lettered: the next one goes on
    expect(keys(await store.claim('w', 10, 60_000))).toEqual(['k2']);
  });

  test('a paused lane is not claimed from; resumed, its jobs run with the attempts they had', async () => {
    const store = new JobStore(pool, scope, TYPE, 5);
    await create({ key: 'a1', lane: 'A', payload: { n: 1 } }, { key: 'b1', lane: 'B', payload: { n: 2 } });
    await intake((j) => j.pauseLane('A', 'disabled'));
    const claimed = await store.claim('w', 10, 60_000);
    expect(keys(claimed)).toEqual(['b1']);
    await intake((j) => j.resumeLane('A'));
    expect(await store.claim('w', 10, 60_000)).toEqual([expect.objectContaining({ key: 'a1', attempts: 1 })]);
  });

  test('a deferred job gives its attempt back; a cancelled lane ends its jobs, running ones included', async () => {
    const store = new JobStore(pool, scope, TYPE, 5);
    await create({ key: 'a1', lane: 'A', payload: { n: 1 } }, { key: 'a2', lane: 'A', payload: { n: 2 } });
    const [a1, a2] = (await store.claim('w', 10, 60_000)).sort((x, y) => x.key.localeCompare(y.key));
    await store.defer(a1!, 'w', 0, undefined);
    expect(await store.claim('w', 10, 60_000)).toEqual([expect.objectContaining({ key: 'a1', attempts: 1 })]);
    expect(await intake((j) => j.cancelLane('A', 'deleted'))).toBe(2);
    // The worker's late end of a cancelled job changes nothing.
    await store.finish(a2!, 'w', 'succeeded', null);
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM async_jobs WHERE scope = $1', [scope]);
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
  });

  test('requeue runs finished jobs again from their first attempt, and leaves unfinished ones alone', async () => {
    const store = new JobStore(pool, scope, TYPE);
    await create({ key: 'a1', payload: { n: 1 } }, { key: 'a2', payload: { n: 2 } });
    const claimed = await store.claim('w', 10, 60_000);
    const done = claimed.find((j) => j.key === 'a1')!;
    await store.finish(done, 'w', 'failed', null);
    expect(await store.requeue([done.id, claimed.find((j) => j.key === 'a2')!.id])).toEqual([done.id]);
    expect(await store.claim('w', 10, 60_000)).toEqual([expect.objectContaining({ key: 'a1', attempts: 1 })]);
  });
});
