import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetrics, enableDefaultMetrics } from '../../services/platform/metrics';
import { runPromtool } from '../support/promtool';

/**
 * The alerting rules of docs/operations.md, checked by Prometheus's own promtool: the file is
 * valid, each alert fires on the series that should trip it and stays quiet on healthy ones
 * (microcred.rules.test.yml), and every metric a rule reads is one this service exports.
 */
const dir = join(__dirname, '..', '..', 'docs', 'alerts');

test('promtool check rules accepts the rule file', () => {
  const run = runPromtool(['check', 'rules', 'microcred.rules.yml'], { cwd: dir });
  expect(run.output).toContain('SUCCESS: 5 rules found');
  expect(run.status).toBe(0);
});

test('promtool test rules: each alert fires on its trigger and not on healthy series', () => {
  const run = runPromtool(['test', 'rules', 'microcred.rules.test.yml'], { cwd: dir });
  expect(run.output).toContain('SUCCESS');
  expect(run.status).toBe(0);
});

test('every metric the rules read is exported by the service', async () => {
  const rules = readFileSync(join(dir, 'microcred.rules.yml'), 'utf8');
  // Metric names in the file: the words ending as our counters, histograms and gauges do.
  const used = new Set([...rules.matchAll(/\b([a-z_]+(?:_total|_seconds_bucket|_backlog))\b/g)].map((m) => m[1]!));
  const metrics = createMetrics();
  enableDefaultMetrics(metrics);
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  expect(used.size).toBeGreaterThanOrEqual(4);
  for (const name of used)
    expect({ name, exported: exported.has(name.replace(/_bucket$/, '')) }).toEqual({ name, exported: true });
});

test('a broken rule file is refused (the check can fail)', () => {
  const run = runPromtool(['check', 'rules', '/dev/stdin'], {
    input:
      'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(http_requests_total[5m]) >\n',
  });
  expect(run.status).not.toBe(0);
});
