import type { Logger } from '../../platform/logger';
import { createRoleWithQuestions, essayAnswer } from '../../../test/support/catalogFixture';
import { essayJobOf, essayScoreOf, eventCount, submitWithEssay } from '../../../test/support/essays';
import { eventually } from '../../../test/support/platform';
import { startTestSystem, type TestSystem } from '../../../test/support/system';
import { createCommandClient } from '../../messaging/commandClient';
import { MessageCodec } from '../../messaging/messageCodec';
import type { EmbeddingBatch, Embeddings } from '../embeddings/embeddings';
import { EssayScorer } from '../essayScoring/essayScorer';
import { essayScoringProcessor, type EssayJobPayload } from '../essayScoring/essayScoringProcessor';
import { CalibrationCache } from '../essayScoring/examples';
import { OfflineEssayScorer } from '../essayScoring/offline/offlineScorer';
import { backoffMs, ProcessorRuntime } from './processor';

jest.setTimeout(120_000);

/** An embeddings provider that is down: every scorer that needs it fails. */
class DownEmbeddings implements Embeddings {
  calls = 0;
  embed(): Promise<EmbeddingBatch> {
    this.calls += 1;
    return Promise.reject(new Error('embeddings provider unreachable'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('a processor whose work keeps failing', () => {
  let sys: TestSystem;
  let runtime: ProcessorRuntime<EssayJobPayload> | undefined;
  let stopClient: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // The system's own processors are off: this spec runs one with a broken provider.
    sys = await startTestSystem({ ROLES: 'api,deciders,projections' });
  });
  afterAll(async () => {
    await runtime?.stop();
    await stopClient?.();
    await sys?.stop();
  });

  test('retries with backoff, recording each error, then reports the failure: nothing stays pending', async () => {
    const { platform } = sys.running;
    const codec = new MessageCodec(platform.codec, platform.topics);
    const client = await createCommandClient(platform, codec, 'spec-processor');
    stopClient = client.stop;
    const embeddings = new DownEmbeddings();
    const offline = new OfflineEssayScorer(embeddings);
    const logger = platform.logger as Logger;
    const scorer = new EssayScorer({
      llm: null,
      offline,
      calibration: new CalibrationCache(platform.pool, (q, e, previous) => offline.calibrate(q, e, previous), logger),
      embeddings,
      logger,
    });
    runtime = new ProcessorRuntime(essayScoringProcessor(scorer), {
      platform,
      codec,
      bus: client.bus,
      options: {
        concurrency: 2,
        maxAttempts: 3,
        attemptTimeoutMs: 10_000,
        leaseMs: 30_000,
        retryBaseMs: 200,
        retryMaxMs: 1000,
        pollMs: 50,
      },
    });
    await runtime.start();

    const role = await createRoleWithQuestions(sys);
    const { token } = await sys.registerAndLogin('student');
    const id = await submitWithEssay(sys, role, token, essayAnswer);

    // While it retries, the job shows its attempts, its last error and when it runs next.
    const retrying = await eventually(async () => {
      const job = await essayJobOf(sys, id);
      return job?.status === 'retrying' ? job : undefined;
    });
    expect(retrying.attempts).toBeGreaterThanOrEqual(1);
    expect(retrying.last_error).toMatch(/embeddings provider unreachable|every embeddings provider/);

    const row = await essayScoreOf(sys, id);
    expect(row).toMatchObject({ status: 'failed', score: null, degraded: true, needs_review: true });
    expect(await eventCount(sys, id, 'EssayScoringFailed', row.version)).toBe(1);
    expect(await eventCount(sys, id, 'EssayScored')).toBe(0);
    expect(await essayJobOf(sys, id)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(embeddings.calls).toBeGreaterThanOrEqual(3);

    // The essay no longer holds the assessment up (it waits only for recommendations now), and
    // the assessment says its result is incomplete.
    // (The assessments read model is a projection of its own: wait until it has this event.)
    const assessment = await eventually(async () => {
      const { rows } = await platform.pool.query<{ status: string; degraded: boolean; version: string }>(
        'SELECT status, degraded, version FROM assessments WHERE id = $1',
        [id],
      );
      return rows[0] && Number(rows[0].version) >= row.version ? rows[0] : undefined;
    });
    expect(assessment).toMatchObject({ status: 'awaiting_async', degraded: true });
  });
});

describe('backoff', () => {
  test('doubles per attempt from the base, within [half, full], capped at the max', () => {
    expect(backoffMs(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffMs(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffMs(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffMs(20, 100, 10_000, () => 1)).toBe(10_000);
  });
});
