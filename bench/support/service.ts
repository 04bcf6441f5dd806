/**
 * What the end-to-end benchmarks share: microcred as its own OS process (node
 * dist/services/main.js, its own topic prefix), the demo catalog loaded through the CLI as
 * npm start does, an HTTP helper, students, and the arithmetic of latencies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { repoPath } from '../../services/platform/paths';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface BenchService {
  env: NodeJS.ProcessEnv;
  base: string;
  http: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: Json }>;
  /** The service processes' pids (for resident memory). */
  pids: number[];
  stop: () => Promise<void>;
}

export interface LaunchOptions {
  /** Roles per process: one process per entry (default: one process with every role). */
  processes?: { roles: string; instance: string }[];
  /** Extra node flags per instance (e.g. CPU profiling). */
  nodeFlags?: (instance: string) => string[];
  env?: Record<string, string>;
}

export async function startBenchService(options: LaunchOptions = {}): Promise<BenchService> {
  const id = randomUUID().slice(0, 8);
  const port = 3900 + Math.floor(Math.random() * 90);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_TOPIC_PREFIX: `bench-${id}`,
    KAFKA_CLIENT_ID: `bench-${id}`,
    INSTANCE_ID: `bench-${id}`,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    BCRYPT_COST: '8',
    RATE_LIMIT_PER_MINUTE: '100000',
    // Benches poll sign-ins until a new account is projected; those failures must not lock it.
    SIGN_IN_MAX_FAILURES: '1000',
    BOOTSTRAP_ADMIN_EMAIL: `admin-${id}@bench.local`,
    BOOTSTRAP_ADMIN_PASSWORD: `Adm1n-${randomBytes(10).toString('hex')}`,
    ...options.env,
  };
  const base = `http://127.0.0.1:${port}`;
  const launch = (roles: string, instance: string): ChildProcess =>
    spawn(process.execPath, [...(options.nodeFlags?.(instance) ?? []), repoPath('dist', 'services', 'main.js')], {
      env: { ...env, ROLES: roles, INSTANCE_ID: `${env.INSTANCE_ID}-${instance}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const servers = (options.processes ?? [{ roles: 'api,deciders,projections,processors', instance: 'all' }]).map((p) =>
    launch(p.roles, p.instance),
  );
  const stop = () =>
    Promise.all(
      servers.map(
        (s) => new Promise<void>((r) => (s.exitCode !== null ? r() : (s.once('exit', () => r()), s.kill('SIGTERM')))),
      ),
    ).then(() => undefined);
  try {
    await waitUntil(
      async () => {
        if (servers.some((p) => p.exitCode !== null)) throw new Error('the service exited during start (see above)');
        return (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
      },
      120_000,
      'the service to be ready',
    );
    await new Promise<void>((resolve, reject) => {
      const cli = spawn(process.execPath, [repoPath('dist', 'services', 'cli', 'main.js'), 'demo-catalog'], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      cli.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`demo catalog exited ${code}`))));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const http: BenchService['http'] = async (method, path, body, token) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
  };
  return { env, base, http, pids: servers.map((s) => s.pid!), stop };
}

/** Registers `count` students and returns their access tokens (setup, not measured). */
export async function registerStudents(service: BenchService, count: number): Promise<string[]> {
  const tokens: string[] = [];
  await pool(count, 8, async () => {
    const email = `s-${randomUUID().slice(0, 12)}@bench.local`;
    const password = `Bench-${randomBytes(8).toString('hex')}1`;
    let reg = await service.http('POST', '/auth/register', { email, password });
    for (let i = 0; i < 5 && reg.status === 202; i++)
      reg = await service.http('POST', '/auth/register', { email, password });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
    // The login reads the users read model, which may not have the new student yet.
    let tok = await service.http('POST', '/auth/token', { email, password });
    for (let i = 0; i < 40 && tok.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      tok = await service.http('POST', '/auth/token', { email, password });
    }
    if (tok.status !== 200) throw new Error(`login: ${tok.status} ${JSON.stringify(tok.body)}`);
    tokens.push(tok.body.access_token as string);
  });
  return tokens;
}

/** The demo roles (the shared read model may also list roles other runs created). */
export async function demoRoles(service: BenchService, token: string): Promise<Json[]> {
  const roles = (await service.http('GET', '/catalog/roles', undefined, token)).body.items as Json[];
  return roles.filter((r) => r.question_count >= 8);
}

/** A plausible valid answer from the public question snapshot; `essay` replaces the filler essay. */
export function answerFor(q: Json, essay?: string): unknown {
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
  if (essay !== undefined) return essay;
  const words = Math.max(Number(q.rubric.min_words ?? 20), 20) + 5;
  return Array.from({ length: words }, (_, i) => ['we', 'measured', 'the', 'rollout', 'carefully'][i % 5]).join(' ');
}

/** An essay of at least `words` words from `sentences`, starting at sentence `i` (different per student). */
export function essayFrom(sentences: readonly string[], i: number, words: number): string {
  const out: string[] = [];
  for (let k = 0; out.join(' ').split(' ').length < words; k++) out.push(sentences[(i + k) % sentences.length]!);
  return out.join(' ');
}

/** Resident memory of a process in MB (Linux /proc). */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(name: string, latencies: number[], seconds: number) {
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

/** Runs `task` `total` times, `concurrency` at a time. */
export async function pool(total: number, concurrency: number, task: () => Promise<void>) {
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

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
