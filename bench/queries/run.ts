/**
 * The dashboards' queries under load (`npm run bench:queries`): a scratch PostgreSQL database
 * (created here, migrated, dropped at the end; the main database is only used to create and
 * drop it), the demo catalog loaded through the real service, BENCH_ASSESSMENTS generated
 * assessments with their essay scores, recommendations, feedback and stage metrics, then an
 * open-loop load of BENCH_RATE requests/s for BENCH_SECONDS over GET /dashboards/assessments
 * (filters, cursors), /dashboards/metrics and /dashboards/feedback. Latency is measured from
 * each request's scheduled send time, so a stalled server cannot hide its queue.
 */
import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { issueToken } from '../../services/api/auth/tokens';
import { MIGRATIONS_DIR } from '../../services/bootstrap/bootstrap';
import { loadConfig } from '../../services/platform/config';
import { createPlatform } from '../../services/platform/platform';
import { loadMigrations, migrate } from '../../services/platform/postgres/migrate';
import { startBenchService, summarize, waitUntil, type BenchService } from '../support/service';
import { fillDashboardData } from './fill';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ASSESSMENTS = env('BENCH_ASSESSMENTS', 100_000);
const STUDENTS = env('BENCH_STUDENTS', 5_000);
const DAYS = env('BENCH_DAYS', 90);
const RATE = env('BENCH_RATE', 200);
const SECONDS = env('BENCH_SECONDS', 30);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);

type Kind = 'assessments' | 'assessments (cursor)' | 'metrics' | 'feedback';
interface Sample {
  kind: Kind;
  ms: number;
  status: number;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const isoAgo = (ms: number) => new Date(Date.now() - ms).toISOString();
const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function main(): Promise<void> {
  const base = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const database = `microcred_qbench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: base.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/${database}`;
  const pool = new Pool({ connectionString: url.toString(), max: 4 });
  pool.on('error', () => undefined); // connections cut by the final DROP DATABASE ... WITH (FORCE)
  let service: BenchService | undefined;
  try {
    await migrate(pool, loadMigrations(MIGRATIONS_DIR));
    const startedAt = Date.now();
    service = await startBenchService({ env: { DATABASE_URL: url.toString(), LOG_LEVEL: 'warn' } });
    await waitUntil(
      async () => (await pool.query('SELECT count(*)::int AS n FROM questions')).rows[0].n >= 50,
      60_000,
      'the demo catalog to be projected',
    );
    process.stdout.write(`service up, demo catalog projected in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
    const fillStarted = Date.now();
    const counts = await fillDashboardData(pool, { assessments: ASSESSMENTS, students: STUDENTS, days: DAYS });
    process.stdout.write(
      `generated in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s (incl. VACUUM ANALYZE): ${JSON.stringify(counts)}\n`,
    );
    const lookups = await lookupValues(pool);
    await load(service, lookups);
  } finally {
    await service?.stop().catch(() => undefined);
    if (service) await deleteTopics(service.env.KAFKA_TOPIC_PREFIX!).catch(() => undefined);
    await pool.end();
    if (process.env.BENCH_KEEP_DB === '1') process.stdout.write(`kept database ${database}\n`);
    else await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

interface Lookups {
  roles: string[];
  users: string[];
  credentials: string[];
}

async function lookupValues(pool: Pool): Promise<Lookups> {
  const roles = (await pool.query<{ id: string }>('SELECT DISTINCT role_id AS id FROM assessments')).rows;
  const users = (await pool.query<{ id: string }>('SELECT id FROM users ORDER BY random() LIMIT 200')).rows;
  const credentials = (await pool.query<{ id: string }>('SELECT id FROM credential_catalog')).rows;
  return { roles: roles.map((r) => r.id), users: users.map((r) => r.id), credentials: credentials.map((r) => r.id) };
}

/** A random dashboards list query (filters as a dashboard would combine them). */
function listQuery(l: Lookups): string {
  const q = new URLSearchParams();
  const r = Math.random();
  if (r < 0.25) q.set('status', pick(['in_progress', 'awaiting_async', 'completed', 'failed']));
  else if (r < 0.4) q.set('role_id', pick(l.roles));
  else if (r < 0.5) q.set('user_id', pick(l.users));
  else if (r < 0.6) q.set('degraded', 'true');
  else if (r < 0.75) {
    q.set('date_field', pick(['started_at', 'submitted_at']));
    q.set('from', isoAgo(Math.random() * 60 * DAY + DAY));
    q.set('to', isoAgo(Math.random() * DAY));
  } else if (r < 0.85) {
    q.set('status', 'completed');
    q.set('role_id', pick(l.roles));
    q.set('from', isoAgo(30 * DAY));
  }
  q.set('limit', String(pick([25, 50, 100])));
  return q.toString();
}

function metricsQuery(): string {
  const r = Math.random();
  if (r < 0.4) return '';
  const span = r < 0.6 ? HOUR : r < 0.85 ? DAY : 7 * DAY;
  const to = Date.now() - Math.random() * 60 * DAY;
  return new URLSearchParams({ from: new Date(to - span).toISOString(), to: new Date(to).toISOString() }).toString();
}

function feedbackQuery(l: Lookups): string {
  const r = Math.random();
  if (r < 0.5) return '';
  if (r < 0.8) return new URLSearchParams({ from: isoAgo(30 * DAY) }).toString();
  return new URLSearchParams({ credential_id: pick(l.credentials) }).toString();
}

async function load(service: BenchService, l: Lookups): Promise<void> {
  const secret = service.env.JWT_SECRET!;
  const tokens = [
    issueToken({ sub: randomUUID(), role: 'admin' }, secret, 3600),
    issueToken({ sub: randomUUID(), role: 'advisor' }, secret, 3600),
  ];
  const get = async (path: string): Promise<{ status: number; body: { next_cursor?: string | null } }> => {
    const res = await fetch(`${service.base}/api/v1${path}`, { headers: { authorization: `Bearer ${pick(tokens)}` } });
    const body = (await res.json()) as { next_cursor?: string | null };
    return { status: res.status, body };
  };
  // Cursors to follow: the first pages of random list queries.
  const cursors: string[] = [];
  for (let i = 0; cursors.length < 300 && i < 2000; i++) {
    const query = listQuery(l);
    let res = await get(`/dashboards/assessments?${query}`);
    for (let page = 0; page < 5 && res.status === 200 && res.body.next_cursor; page++) {
      const next = `${query}&cursor=${encodeURIComponent(res.body.next_cursor)}`;
      cursors.push(next);
      res = await get(`/dashboards/assessments?${next}`);
    }
    if (res.status !== 200) throw new Error(`list answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const request = (): { kind: Kind; path: string } => {
    const r = Math.random();
    if (r < 0.3) return { kind: 'assessments', path: `/dashboards/assessments?${listQuery(l)}` };
    if (r < 0.5) return { kind: 'assessments (cursor)', path: `/dashboards/assessments?${pick(cursors)}` };
    if (r < 0.8) return { kind: 'metrics', path: `/dashboards/metrics?${metricsQuery()}` };
    return { kind: 'feedback', path: `/dashboards/feedback?${feedbackQuery(l)}` };
  };

  const run = async (rate: number, seconds: number): Promise<Sample[]> => {
    const samples: Sample[] = [];
    const inFlight: Promise<void>[] = [];
    const t0 = performance.now();
    const total = Math.round(rate * seconds);
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const { kind, path } = request();
      inFlight.push(
        get(path).then(
          (res) => void samples.push({ kind, ms: performance.now() - due, status: res.status }),
          () => void samples.push({ kind, ms: performance.now() - due, status: 0 }),
        ),
      );
    }
    await Promise.all(inFlight);
    return samples;
  };

  await run(Math.min(RATE, 50), WARMUP_SECONDS);
  const started = performance.now();
  const samples = await run(RATE, SECONDS);
  const elapsed = (performance.now() - started) / 1000;
  const rows = (['assessments', 'assessments (cursor)', 'metrics', 'feedback'] as Kind[]).map((kind) => {
    const of = samples.filter((s) => s.kind === kind);
    return {
      ...summarize(
        kind,
        of.map((s) => s.ms),
        elapsed,
      ),
      errors: of.filter((s) => s.status !== 200).length,
    };
  });
  rows.push({
    ...summarize(
      'overall',
      samples.map((s) => s.ms),
      elapsed,
    ),
    errors: samples.filter((s) => s.status !== 200).length,
  });
  process.stdout.write(
    `\nopen loop: ${RATE} requests/s for ${SECONDS} s (${samples.length} requests in ${elapsed.toFixed(1)} s); ` +
      `${ASSESSMENTS} generated assessments over ${DAYS} days\n`,
  );
  console.table(rows);
  const failures = new Map<number, number>();
  for (const s of samples) if (s.status !== 200) failures.set(s.status, (failures.get(s.status) ?? 0) + 1);
  if (failures.size > 0)
    process.stdout.write(`non-200 answers by status (0: no answer): ${JSON.stringify([...failures])}\n`);
  if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
}

async function deleteTopics(prefix: string): Promise<void> {
  if (!/^bench-[0-9a-f]{8}$/.test(prefix)) return;
  const platform = await createPlatform(loadConfig({ ...process.env, LOG_LEVEL: 'warn' }), 'bench-queries-cleanup');
  try {
    const topics = (await platform.kafkaAdmin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length > 0) await platform.kafkaAdmin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await platform.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
