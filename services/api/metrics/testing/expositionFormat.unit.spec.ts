import { createMetrics, enableDefaultMetrics } from '../../../platform/metrics';
import { parseExposition, sumOf } from './expositionFormat';

describe('parseExposition (Prometheus text format 0.0.4)', () => {
  it('reads HELP, TYPE, labels with escapes, special floats and histograms', () => {
    const families = parseExposition(
      [
        '# HELP http_requests_total Requests \\\\ counted\\nby route',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="GET",route="/a/:id",status_code="200"} 3',
        'http_requests_total{method="GET",route="say \\"hi\\"\\\\\\n",status_code="500",} 1e0 1700000000000',
        '# a comment',
        '# TYPE lat histogram',
        'lat_bucket{le="0.1"} 1',
        'lat_bucket{le="+Inf"} 2',
        'lat_sum 0.3',
        'lat_count 2',
        'temp NaN',
        'temp2 -Inf',
        '',
      ].join('\n'),
    );
    const http = families.get('http_requests_total')!;
    expect(http.help).toBe('Requests \\ counted\nby route');
    expect(http.type).toBe('counter');
    expect(http.samples[1]!.labels.route).toBe('say "hi"\\\n');
    expect(sumOf(families, 'http_requests_total', { method: 'GET' })).toBe(4);
    expect(families.get('lat')!.samples).toHaveLength(4);
    expect(families.get('temp')!.samples[0]!.value).toBeNaN();
    expect(families.get('temp2')!.type).toBe('untyped');
  });

  it.each([
    ['a bad metric name', '1abc 1\n'],
    ['a bad label name', 'a{1x="v"} 1\n'],
    ['an unquoted label value', 'a{x=v} 1\n'],
    ['a bad escape', 'a{x="\\t"} 1\n'],
    ['a duplicate label', 'a{x="1",x="2"} 1\n'],
    ['a value that is no float', 'a 1,5\n'],
    ['no value', 'a\n'],
    ['a bad timestamp', 'a 1 1.5\n'],
    ['a missing final line feed', 'a 1'],
    ['two TYPEs', '# TYPE a counter\n# TYPE a gauge\na 1\n'],
    ['an unknown type', '# TYPE a meter\na 1\n'],
    ['a TYPE after samples', 'a 1\n# TYPE a counter\n'],
    ['a family in two groups', 'a{x="1"} 1\nb 1\na{x="2"} 1\n'],
    ['the same series twice', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['decreasing buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n'],
    ['a count unlike +Inf', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 1\n'],
  ])('refuses %s', (_label, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it("reads prom-client's output back as prom-client's registry describes it (round trip)", async () => {
    const metrics = createMetrics();
    enableDefaultMetrics(metrics);
    metrics.httpRequests.inc({ method: 'GET', route: '/api/v1/assessments/:assessment_id', status_code: '404' });
    metrics.httpRequestDuration.observe({ method: 'GET', route: 'unmatched', status_code: '404' }, 0.02);
    metrics.processorDegraded.inc({ processor: 'essay_scoring', provider: 'offline "fallback"\\' });
    const families = parseExposition(await metrics.registry.metrics());
    const json = await metrics.registry.getMetricsAsJSON();
    expect([...families.keys()].sort()).toEqual(json.map((m) => m.name).sort());
    for (const m of json) {
      const f = families.get(m.name)!;
      expect({ name: m.name, type: f.type, help: f.help }).toEqual({ name: m.name, type: m.type, help: m.help });
    }
    for (const name of ['http_requests_total', 'processor_degraded_total', 'http_request_duration_seconds']) {
      const m = json.find((x) => x.name === name)!;
      const expected = m.values.map((v) => ({
        name: (v as { metricName?: string }).metricName ?? name,
        labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)])),
        value: v.value,
      }));
      expect(families.get(name)!.samples).toEqual(expect.arrayContaining(expected));
      expect(families.get(name)!.samples).toHaveLength(expected.length);
    }
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });
});
