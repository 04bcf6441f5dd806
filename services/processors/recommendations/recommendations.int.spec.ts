import { findAssessment } from '../../../projections/assessments/queries';
import { recommendationResultOf } from '../../../projections/recommendations/queries';
import { demoCatalog, loadDemo, searchIndexed, submitDemoAssessment } from '../../../test/support/demoAssessment';
import { eventually } from '../../../test/support/platform';
import { startTestSystem, type TestSystem } from '../../../test/support/system';

jest.setTimeout(300_000);

const demo = demoCatalog();

describe('recommendations: the demo catalog, end to end (offline: no LLM)', () => {
  let sys: TestSystem;
  let token: string;

  beforeAll(async () => {
    sys = await startTestSystem({ PROCESSOR_POLL_MS: '100' });
    await loadDemo(sys);
    await searchIndexed(sys, demo.credentials.length);
    token = (await sys.registerAndLogin('student')).token;
  });
  afterAll(async () => {
    await sys?.stop();
  });

  test('a submitted assessment of every demo role completes with ranked credentials citing verbatim evidence', async () => {
    for (const role of demo.roles) {
      const id = await submitDemoAssessment(sys, token, role, { weak: role.skills.slice(0, 3) });
      const result = await eventually(
        async () => {
          const r = await recommendationResultOf(sys.running.platform.pool, id);
          return r?.recommendation.status === 'ready' ? r : undefined;
        },
        120_000,
        `the result of ${role.name}`,
      );
      const assessment = await findAssessment(sys.running.platform.pool, id);
      expect(assessment?.status).toBe('completed');
      expect(result.items.length).toBeGreaterThan(0);
      expect(result.traces.length).toBeGreaterThan(0);
      const traceIds = new Set(result.traces.map((t) => t.trace_id));
      for (const item of result.items) {
        for (const t of item.source_trace_ids) expect(traceIds.has(t)).toBe(true);
      }
      console.log(
        role.name,
        JSON.stringify(
          result.items.map((i) => [i.title, i.confidence, i.rationale.slice(0, 120), i.source_trace_ids.length]),
        ),
        result.recommendation.metrics,
      );
    }
  });
});
