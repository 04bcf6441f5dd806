import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { encodeCursor } from '../../../projections/dashboards/queries';
import { createRoleWithQuestions, startAssessment } from '../../../test/support/catalogFixture';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';
import { loadConfig } from '../../platform/config';

jest.setTimeout(180_000);

/**
 * The dashboards on the real stack, in a database of their own (created and migrated here, so
 * the rows inserted below are the only ones): filters, keyset pagination, the metrics and
 * feedback summaries, 400 for a malformed query, 403 for students, every answer in the contract.
 */
let sys: TestSystem;
let db: Pool;
let admin: Client;
let database: string;
let staff: string;
let student: string;

beforeAll(async () => {
  const base = loadConfig();
  database = `microcred_dash_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  admin = new Client({ connectionString: base.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/${database}`;
  sys = await startTestSystem({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: '4' });
  db = new Pool({ connectionString: url.toString(), max: 2 });
  // The database is dropped WITH (FORCE) at the end: a connection still closing is then cut,
  // which the pool reports as an 'error' event; without a listener that fails the run.
  db.on('error', () => undefined);
  [staff, student] = await Promise.all([
    sys.registerAndLogin('advisor').then((u) => u.token),
    sys.registerAndLogin('student').then((u) => u.token),
  ]);
});
afterAll(async () => {
  await sys?.stop();
  await db?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin?.end();
});

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

async function get(path: string, token = staff): Promise<HttpResult> {
  const res = await sys.request('GET', `/api/v1/dashboards/${path}`, { token });
  const template = `/dashboards/${path.split('?')[0]}`;
  expectMatchesContract('GET', template, res);
  return res;
}

interface Row {
  id: string;
  user_id: string;
  status: string;
  degraded: boolean;
  started_at: Date;
  submitted_at: Date | null;
  completed_at: Date | null;
}

async function insertAssessment(roleId: string, row: Row): Promise<void> {
  await db.query(
    `INSERT INTO assessments (id, user_id, role_id, status, degraded, answered, total, started_at, submitted_at, completed_at)
     VALUES ($1, $2, $3, $4, $5, 3, 4, $6, $7, $8)`,
    [row.id, row.user_id, roleId, row.status, row.degraded, row.started_at, row.submitted_at, row.completed_at],
  );
}

const STATUSES = ['in_progress', 'awaiting_async', 'completed', 'failed'] as const;

/** `n` assessments of a new role: every 4th status, every 5th degraded, ten sharing one start instant. */
async function seedRole(n: number, startMinute = 0): Promise<{ roleId: string; userId: string; rows: Row[] }> {
  const roleId = randomUUID();
  const userId = randomUUID();
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const status = STATUSES[i % 4]!;
    const started = at(startMinute + (i < 10 ? 0 : i)); // ties on started_at: the id breaks them
    const submitted = status === 'in_progress' ? null : new Date(started.getTime() + 10 * 60_000);
    const row: Row = {
      id: randomUUID(),
      user_id: i % 3 === 0 ? userId : randomUUID(),
      status,
      degraded: i % 5 === 0,
      started_at: started,
      submitted_at: submitted,
      completed_at:
        submitted && (status === 'completed' || status === 'failed')
          ? new Date(submitted.getTime() + 1000 * (1 + (i % 10)))
          : null,
    };
    rows.push(row);
    await insertAssessment(roleId, row);
  }
  return { roleId, userId, rows };
}

const newestFirst = (a: Row, b: Row) =>
  b.started_at.getTime() - a.started_at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: HttpResult = await get(
      `assessments?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.items.map((i: { assessment_id: string }) => i.assessment_id));
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe('GET /dashboards/assessments', () => {
  let seeded: Awaited<ReturnType<typeof seedRole>>;
  beforeAll(async () => {
    seeded = await seedRole(60);
  });

  it('pages through every row once, newest first (ties broken by id), null cursor at the end', async () => {
    const { ids, pages } = await allPages(`role_id=${seeded.roleId}`, 7);
    expect(pages).toBe(9);
    expect(new Set(ids).size).toBe(60);
    expect(ids).toEqual([...seeded.rows].sort(newestFirst).map((r) => r.id));
  });

  it('is stable under inserts: rows added before the cursor never shift the next pages', async () => {
    const first = await get(`assessments?role_id=${seeded.roleId}&limit=10`);
    for (let i = 0; i < 5; i++) {
      await insertAssessment(seeded.roleId, {
        id: randomUUID(),
        user_id: randomUUID(),
        status: 'in_progress',
        degraded: false,
        started_at: at(1000 + i),
        submitted_at: null,
        completed_at: null,
      });
    }
    const ids = first.body.items.map((i: { assessment_id: string }) => i.assessment_id);
    let cursor: string | null = first.body.next_cursor;
    while (cursor) {
      const res: HttpResult = await get(
        `assessments?role_id=${seeded.roleId}&limit=10&cursor=${encodeURIComponent(cursor)}`,
      );
      ids.push(...res.body.items.map((i: { assessment_id: string }) => i.assessment_id));
      cursor = res.body.next_cursor;
    }
    expect(ids).toEqual([...seeded.rows].sort(newestFirst).map((r) => r.id));
    await db.query(`DELETE FROM assessments WHERE role_id = $1 AND started_at >= $2`, [seeded.roleId, at(1000)]);
  });

  it('filters by status, degraded, student, and a date range on started_at or submitted_at', async () => {
    const expectIds = async (query: string, keep: (r: Row) => boolean) => {
      const { ids } = await allPages(`role_id=${seeded.roleId}&${query}`, 100);
      expect(ids).toEqual(
        seeded.rows
          .filter(keep)
          .sort(newestFirst)
          .map((r) => r.id),
      );
    };
    await expectIds('status=failed', (r) => r.status === 'failed');
    await expectIds('degraded=true', (r) => r.degraded);
    await expectIds('degraded=false&status=completed', (r) => !r.degraded && r.status === 'completed');
    await expectIds(`user_id=${seeded.userId}`, (r) => r.user_id === seeded.userId);
    const from = at(20);
    const to = at(40);
    await expectIds(
      `from=${from.toISOString()}&to=${to.toISOString()}`,
      (r) => r.started_at >= from && r.started_at < to,
    );
    // By submission: only submitted rows, sorted and paginated by submitted_at.
    const { ids } = await allPages(
      `role_id=${seeded.roleId}&date_field=submitted_at&from=${from.toISOString()}&to=${to.toISOString()}`,
      4,
    );
    expect(ids).toEqual(
      seeded.rows
        .filter((r) => r.submitted_at && r.submitted_at >= from && r.submitted_at < to)
        .sort(newestFirst)
        .map((r) => r.id),
    );
  });

  it('shows each assessment’s essay scoring summary', async () => {
    const target = seeded.rows.find((r) => r.status === 'completed')!;
    for (const [i, status, cost] of [
      [0, 'scored', '0.021'],
      [1, 'failed', null],
      [2, 'overridden', '0.010'],
    ] as const) {
      const snapshot = randomUUID();
      await db.query(
        `INSERT INTO assessment_question_snapshots (id, assessment_id, question_id, position, prompt, rubric, question_type, version)
         VALUES ($1, $2, $3, $4, 'Essay', '{}', 'essay', '1')`,
        [snapshot, target.id, randomUUID(), i],
      );
      await db.query(
        `INSERT INTO essay_scores (id, assessment_id, question_snapshot_id, status, cost_cents, needs_review)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [randomUUID(), target.id, snapshot, status, cost, i === 0],
      );
    }
    const res = await get(`assessments?role_id=${seeded.roleId}&status=completed&limit=100`);
    const item = res.body.items.find((i: { assessment_id: string }) => i.assessment_id === target.id);
    expect(item).toMatchObject({
      role_id: seeded.roleId,
      status: 'completed',
      answered: 3,
      total: 4,
      essays: { count: 3, scored: 2, failed: 1, needs_review: 1, cost_cents: 0.031 },
    });
    const other = res.body.items.find((i: { assessment_id: string }) => i.assessment_id !== target.id);
    expect(other.essays).toEqual({ count: 0, scored: 0, failed: 0, needs_review: 0, cost_cents: 0 });
  });

  it('lists an assessment started through the API', async () => {
    const role = await createRoleWithQuestions(sys);
    const someone = await sys.registerAndLogin('student');
    const id = await startAssessment(sys, someone.token, role.roleId);
    const res = await eventually(
      async () => {
        const r = await get(`assessments?user_id=${someone.userId}`);
        return r.body.items.length === 1 ? r : undefined;
      },
      30_000,
      'the assessment in the dashboard',
    );
    expect(res.body.items[0]).toMatchObject({
      assessment_id: id,
      user_id: someone.userId,
      role_id: role.roleId,
      status: 'in_progress',
      submitted_at: null,
    });
    expect(res.body.next_cursor).toBeNull();
  });

  it('answers 400 to a malformed cursor or filter', async () => {
    const otherField = encodeCursor({ field: 'submitted_at', at: '2024-05-01T08:00:00.000000Z', id: randomUUID() });
    const forged = Buffer.from(JSON.stringify(['s', 'yesterday', 'x'])).toString('base64url');
    for (const [query, code] of [
      ['cursor=not%20a%20cursor', 'INVALID_CURSOR'],
      ['cursor=Zm9vYmFy', 'INVALID_CURSOR'],
      [`cursor=${forged}`, 'INVALID_CURSOR'],
      [`cursor=${otherField}`, 'INVALID_CURSOR'],
      ['limit=0', 'INVALID_QUERY'],
      ['limit=101', 'INVALID_QUERY'],
      ['limit=ten', 'INVALID_QUERY'],
      ['status=done', 'INVALID_QUERY'],
      ['degraded=yes', 'INVALID_QUERY'],
      ['role_id=42', 'INVALID_QUERY'],
      ['from=yesterday', 'INVALID_QUERY'],
      ['from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z', 'INVALID_QUERY'],
      ['date_field=completed_at', 'INVALID_QUERY'],
      ['status=failed&status=completed', 'INVALID_QUERY'],
    ]) {
      const res = await get(`assessments?${query}`);
      expect({ query, status: res.status, code: res.body.error_code }).toEqual({ query, status: 400, code });
    }
  });
});

describe('GET /dashboards/metrics', () => {
  it('summarises the window: counts, hourly buckets, latency, stages, cost, projections', async () => {
    const start = 3 * 24 * 60; // three days after T0: only this test's rows
    const { roleId, rows } = await seedRole(20, start);
    const cost = rows.filter((r) => r.status !== 'in_progress').slice(0, 4);
    for (const [i, r] of cost.entries()) {
      const snapshot = randomUUID();
      await db.query(
        `INSERT INTO assessment_question_snapshots (id, assessment_id, question_id, position, prompt, rubric, question_type, version)
         VALUES ($1, $2, $3, 0, 'Essay', '{}', 'essay', '1')`,
        [snapshot, r.id, randomUUID()],
      );
      await db.query(
        `INSERT INTO essay_scores (id, assessment_id, question_snapshot_id, cost_cents) VALUES ($1, $2, $3, $4)`,
        [randomUUID(), r.id, snapshot, (i + 1) / 100],
      );
    }
    for (const [i, stage] of ['total_latency_ms', 'total_latency_ms', 'rag_latency_ms'].entries()) {
      await db.query(`INSERT INTO metric_snapshots (id, metric_type, value, captured_at) VALUES ($1, $2, $3, $4)`, [
        randomUUID(),
        stage,
        100 * (i + 1),
        at(start + 5),
      ]);
    }
    // The recorded cost of the whole processing wins over the essays' (first); one without essays counts too.
    const recorded = rows.filter((r) => r.status !== 'in_progress')[4]!;
    for (const [assessment, cents] of [
      [cost[0]!.id, 0.5],
      [recorded.id, 0.1],
    ] as const) {
      await db.query(
        `INSERT INTO metric_snapshots (id, assessment_id, metric_type, value, captured_at)
         VALUES ($1, $2, 'token_cost_cents', $3, $4)`,
        [randomUUID(), assessment, cents, at(start + 5)],
      );
    }
    const from = at(start).toISOString();
    const to = at(start + 120).toISOString();
    const res = await get(`metrics?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const count = (s: string) => rows.filter((r) => r.status === s).length;
    expect(res.body.assessments).toEqual({
      started: 20,
      in_progress: count('in_progress'),
      awaiting_async: count('awaiting_async'),
      completed: count('completed'),
      failed: count('failed'),
      degraded: 4,
      degraded_rate: 4 / 20,
      failure_rate: count('failed') / (count('completed') + count('failed')),
    });
    expect(res.body.per_hour).toEqual([
      { hour: from, started: 20, completed: count('completed'), failed: count('failed'), degraded: 4 },
      { hour: at(start + 60).toISOString(), started: 0, completed: 0, failed: 0, degraded: 0 },
    ]);
    const latencies = rows
      .filter((r) => r.status === 'completed')
      .map((r) => r.completed_at!.getTime() - r.submitted_at!.getTime())
      .sort((a, b) => a - b);
    expect(res.body.submit_to_result_ms.count).toBe(latencies.length);
    expect(res.body.submit_to_result_ms.p50).toBeCloseTo(
      (latencies[(latencies.length - 1) >> 1]! + latencies[latencies.length >> 1]!) / 2,
      3,
    );
    // Latencies only: the cost metric is not a stage.
    expect(res.body.stages).toEqual([
      { stage: 'rag_latency_ms', count: 1, avg: 300, p50: 300, p95: 300 },
      { stage: 'total_latency_ms', count: 2, avg: 150, p50: 150, p95: 195 },
    ]);
    // Per assessment: 0.5 (recorded, not its essay's 0.01), 0.02, 0.03, 0.04 (essays), 0.1 (recorded).
    expect(res.body.token_cost_cents).toEqual({ assessments: 5, total: 0.69, avg: 0.138, p95: expect.any(Number) });
    expect(res.body.token_cost_cents.p95).toBeCloseTo(0.42, 6);
    // This system's projections (its own topic prefix) have stored offsets.
    expect(res.body.consumer_lag.source).toBe('offsets_age');
    expect(res.body.consumer_lag.projections.map((p: { projection: string }) => p.projection)).toContain('assessments');
    void roleId;
  });

  it('defaults to the last 24 hours; an empty window has no rates; refuses more than 31 days', async () => {
    const res = await get('metrics');
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(24 * 3600 * 1000);
    expect(res.body.per_hour.length).toBeGreaterThanOrEqual(24);
    const empty = await get('metrics?from=2001-01-01T00:00:00Z&to=2001-01-01T01:00:00Z');
    expect(empty.body).toMatchObject({
      assessments: { started: 0, degraded_rate: null, failure_rate: null },
      submit_to_result_ms: { count: 0, p50: null, p95: null },
      stages: [],
      token_cost_cents: { assessments: 0, total: 0, avg: null, p95: null },
    });
    for (const query of ['from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z', 'to=soon', 'from=2024-01-01']) {
      const bad = await get(`metrics?${query}`);
      expect({ query, status: bad.status, code: bad.body.error_code }).toEqual({
        query,
        status: 400,
        code: 'INVALID_QUERY',
      });
    }
  });
});

describe('GET /dashboards/feedback', () => {
  it('counts each person’s feedback once, for the credential it is about, where it was recommended', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // Recommendations (their credentials), each with feedback: [credential, relevance, acceptance, when].
    const recommendations: [string[], [string, number, string | null, Date][]][] = [
      [
        [a, b],
        [
          [a, 5, 'accepted', at(0)],
          [b, 4, 'rejected', at(10)],
        ],
      ],
      [
        [a, c],
        [
          [a, 2, 'pending', at(20)],
          [c, 3, null, at(30)],
        ],
      ],
      [
        [a],
        [
          [a, 4, 'accepted', at(40)],
          [b, 1, 'rejected', at(50)], // b was not recommended here: not counted
        ],
      ],
    ];
    for (const [credentials, feedback] of recommendations) {
      const assessment = randomUUID();
      await insertAssessment(randomUUID(), {
        id: assessment,
        user_id: randomUUID(),
        status: 'completed',
        degraded: false,
        started_at: at(-60),
        submitted_at: at(-50),
        completed_at: at(-49),
      });
      const reco = randomUUID();
      await db.query(
        `INSERT INTO recommendations (id, assessment_id, status, generated_at) VALUES ($1, $2, 'ready', $3)`,
        [reco, assessment, at(-49)],
      );
      for (const [i, credential] of credentials.entries()) {
        await db.query(
          `INSERT INTO recommendation_items (id, recommendation_id, credential_id, title, confidence, position)
           VALUES ($1, $2, $3, $4, 0.9, $5)`,
          [randomUUID(), reco, credential, `Credential ${credential.slice(0, 4)}`, i + 1],
        );
      }
      for (const [credential, relevance, acceptance, when] of feedback) {
        await db.query(
          `INSERT INTO recommendation_feedback (id, recommendation_id, assessment_id, credential_id, submitted_by,
             submitted_by_role, relevance_score, acceptance_status, revision, submitted_at)
           VALUES ($1, $2, $3, $4, $5, 'student', $6, $7, 1, $8)`,
          [randomUUID(), reco, assessment, credential, randomUUID(), relevance, acceptance, when],
        );
      }
    }
    const res = await get('feedback');
    expect(res.status).toBe(200);
    const title = (id: string) => `Credential ${id.slice(0, 4)}`;
    expect(res.body.items).toEqual([
      { credential_id: a, title: title(a), feedback: 3, accepted: 2, rejected: 0, pending: 1, mean_relevance: 11 / 3 },
      ...[
        { credential_id: b, title: title(b), feedback: 1, accepted: 0, rejected: 1, pending: 0, mean_relevance: 4 },
        { credential_id: c, title: title(c), feedback: 1, accepted: 0, rejected: 0, pending: 1, mean_relevance: 3 },
      ].sort((x, y) => (x.credential_id < y.credential_id ? -1 : 1)),
    ]);
    const windowed = await get(`feedback?from=${at(15).toISOString()}&to=${at(45).toISOString()}&limit=1`);
    expect(windowed.body.items).toEqual([expect.objectContaining({ credential_id: a, feedback: 2, accepted: 1 })]);
    const one = await get(`feedback?credential_id=${c}`);
    expect(one.body.items.map((i: { credential_id: string }) => i.credential_id)).toEqual([c]);
    const bad = await get('feedback?credential_id=nope');
    expect(bad.status).toBe(400);
  });
});

describe('access', () => {
  it('refuses students (403) and anonymous callers (401)', async () => {
    for (const path of ['assessments', 'metrics', 'feedback']) {
      const res = await get(path, student);
      expect({ path, status: res.status, code: res.body.error_code }).toEqual({
        path,
        status: 403,
        code: 'ROLE_REQUIRED',
      });
      const anonymous = await sys.request('GET', `/api/v1/dashboards/${path}`);
      expect(anonymous.status).toBe(401);
    }
    const asAdmin = await get('metrics', await sys.adminToken());
    expect(asAdmin.status).toBe(200);
  });
});
