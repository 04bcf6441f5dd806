import { randomUUID } from 'node:crypto';
import { createRoleWithQuestions } from '../../../test/support/catalogFixture';
import { essayScoreOf, submitWithEssay } from '../../../test/support/essays';
import { eventually } from '../../../test/support/platform';
import { startTestSystem, type TestSystem } from '../../../test/support/system';
import { processMetrics } from '../../platform/metrics';
import { runPromtool } from '../../../test/support/promtool';
import { parseExposition, sumOf, type MetricFamily } from './testing/expositionFormat';

jest.setTimeout(180_000);

/**
 * GET /metrics on a whole system: the Prometheus text format (checked by a strict reader of the
 * 0.0.4 format and by a round trip against prom-client's registry, no Prometheus parser being
 * installed), route labels that are templates, and counters that move with the traffic. The
 * registry is the process's, so the assertions are about how much a counter moved.
 */
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

async function scrape(): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`${sys.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parseExposition(await res.text());
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

test('GET /metrics needs no token and serves the default process metrics', async () => {
  const families = await scrape();
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
    expect(families.has(name)).toBe(true);
  }
  expect(families.get('http_request_duration_seconds')?.type).toBe('histogram');
});

test('HTTP requests are counted by route template, never by raw path', async () => {
  const before = await scrape();
  const { token } = await sys.registerAndLogin();
  const id = randomUUID();
  expect((await sys.request('GET', `/api/v1/assessments/${id}`, { token })).status).toBe(404);
  expect((await sys.request('GET', `/api/v1/assessments/${id}/history`)).status).toBe(401);
  expect((await sys.request('GET', `/nope/${id}`)).status).toBe(404);
  expect((await sys.request('PATCH', '/api/v1/catalog/roles', { token })).status).toBe(405);
  const after = await scrape();

  const moved = (labels: Record<string, string>) =>
    sumOf(after, 'http_requests_total', labels) - sumOf(before, 'http_requests_total', labels);
  expect(moved({ method: 'GET', route: '/api/v1/assessments/:assessment_id', status_code: '404' })).toBe(1);
  expect(moved({ method: 'GET', route: '/api/v1/assessments/:assessment_id/history', status_code: '401' })).toBe(1);
  expect(moved({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
  expect(moved({ method: 'PATCH', route: 'unmatched', status_code: '405' })).toBe(1);
  expect(moved({ method: 'POST', route: '/api/v1/auth/register', status_code: '201' })).toBeGreaterThanOrEqual(1);
  expect(moved({ method: 'POST', route: '/api/v1/auth/token', status_code: '200' })).toBe(1);
  const durationCount = (f: Map<string, MetricFamily>) =>
    sumOf(f, 'http_request_duration_seconds_count', { route: '/api/v1/assessments/:assessment_id' });
  expect(durationCount(after) - durationCount(before)).toBe(1);

  const routes = new Set(
    ['http_requests_total', 'http_request_duration_seconds'].flatMap((name) =>
      after.get(name)!.samples.map((s) => s.labels.route!),
    ),
  );
  for (const route of routes) {
    expect({ route, raw: UUID.test(route) }).toEqual({ route, raw: false });
    expect(route === 'unmatched' || route.startsWith('/')).toBe(true);
  }
});

test('deciders, projections and processors move their counters (an essay scored offline is degraded)', async () => {
  const before = await scrape();
  const role = await createRoleWithQuestions(sys);
  const { token } = await sys.registerAndLogin();
  const essay = Array.from(
    { length: 8 },
    (_, i) => `Step ${i}: I roll out with a canary, watch readiness probes and roll back when alerts fire.`,
  ).join(' ');
  const id = await submitWithEssay(sys, role, token, essay);
  const row = await essayScoreOf(sys, id);
  expect(row.degraded).toBe(true);
  // The job is counted once the processor has recorded its outcome, which may follow the read model.
  const jobs = { processor: 'essay_scoring', outcome: 'succeeded' };
  const after = await eventually(async () => {
    const now = await scrape();
    return sumOf(now, 'processor_jobs_total', jobs) > sumOf(before, 'processor_jobs_total', jobs) ? now : undefined;
  });
  const moved = (sample: string, labels: Record<string, string>) =>
    sumOf(after, sample, labels) - sumOf(before, sample, labels);

  for (const context of ['identity', 'catalog', 'assessment']) {
    expect({ context, decided: moved('decider_decide_duration_seconds_count', { context }) > 0 }).toEqual({
      context,
      decided: true,
    });
    expect(moved('decider_commands_total', { context, outcome: 'accepted' })).toBeGreaterThan(0);
  }
  expect(moved('projection_events_total', { outcome: 'applied' })).toBeGreaterThan(0);
  expect(moved('projection_events_total', { outcome: 'failed' })).toBe(0);
  expect(moved('processor_jobs_total', jobs)).toBeGreaterThanOrEqual(1);
  expect(
    moved('processor_degraded_total', { processor: 'essay_scoring', provider: row.provider! }),
  ).toBeGreaterThanOrEqual(1);
  const projections = new Set(after.get('projection_events_total')!.samples.map((s) => s.labels.projection));
  expect(projections.size).toBeGreaterThan(1);
});

test("the served text is what prom-client's registry holds (round trip)", async () => {
  const { registry } = processMetrics();
  const families = parseExposition(await registry.metrics());
  const json = await registry.getMetricsAsJSON();
  expect([...families.keys()].sort()).toEqual(json.map((m) => m.name).sort());
  for (const m of json) {
    const f = families.get(m.name)!;
    expect({ name: m.name, type: f.type, help: f.help }).toEqual({ name: m.name, type: m.type, help: m.help });
  }
  // No requests are in flight here, so the HTTP counters must agree series by series.
  const http = json.find((m) => m.name === 'http_requests_total')!;
  expect(families.get('http_requests_total')!.samples).toEqual(
    expect.arrayContaining(
      http.values.map((v) => ({
        name: 'http_requests_total',
        labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)])),
        value: v.value,
      })),
    ),
  );
});

test("Prometheus's own promtool parses the served text; its lint finds nothing in our metrics", async () => {
  const res = await fetch(`${sys.url}/metrics`);
  const text = await res.text();
  expect(text).toMatch(/^processor_jobs_backlog\b/m);
  const run = runPromtool(['check', 'metrics'], { input: text });
  // 0: clean; 3: lint remarks only; anything else (1) is a text the parser refused.
  expect({ status: run.status, parsed: !/error while linting|parsing error/i.test(run.output) }).toEqual({
    status: run.status === 0 ? 0 : 3,
    parsed: true,
  });
  // The only remarks are about prom-client's default nodejs_* gauges named *_total, not ours.
  const remarks = run.output.split('\n').filter(Boolean);
  expect(
    remarks.filter((line) => !/^nodejs_\w+ non-counter metrics should not have "_total" suffix$/.test(line)),
  ).toEqual([]);
  // And promtool does refuse a broken text (the check can fail).
  expect(runPromtool(['check', 'metrics'], { input: 'http_requests_total{route="x" 1\n' }).status).toBe(1);
});
