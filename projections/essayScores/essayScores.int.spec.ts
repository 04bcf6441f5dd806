import { randomUUID } from 'node:crypto';
import { assessmentDecider, type AssessmentEvent } from '../../domain/assessment';
import { design, recordEssayScore, submittedWithEssay, system } from '../../domain/assessment/testing/fixtures';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { assessmentsProjection } from '../assessments/projection';
import { createTestbed, type Testbed } from '../audit/testing/testbed';
import { essayScoresProjection } from './projection';
import { essayScoresOf } from './queries';

jest.setTimeout(120_000);

/**
 * essay_scores and assessments are separate projections at their own pace: a score projected
 * before the assessments projection has its question snapshot (catch-up after downtime, a
 * rebuild) must not be lost. It used to be: the row took its ids from the snapshot row.
 */
let bed: Testbed;
beforeAll(async () => {
  bed = await createTestbed();
});
afterAll(async () => {
  await bed?.close();
});

test('a score projected before its assessment snapshot is kept, and shows once the snapshot lands', async () => {
  const assessmentId = randomUUID();
  const scored = recordEssayScore({ assessment_id: assessmentId, tokens_in: 900, tokens_out: 120, cost_cents: 0.02 });
  // The fixture history is for the fixture's assessment id: re-key it to this spec's own.
  const history = submittedWithEssay.map(
    (e) =>
      ('assessment_id' in e.data ? { ...e, data: { ...e.data, assessment_id: assessmentId } } : e) as AssessmentEvent,
  );
  const state = history.reduce(assessmentDecider.evolve, assessmentDecider.initialState());
  const events = [...history, ...assessmentDecider.decide(scored, state)].map((event, i): EventEnvelope => ({
    event_id: randomUUID(),
    aggregate_id: assessmentId,
    aggregate_type: 'assessment',
    version: i + 1,
    type: event.type,
    occurred_at: '2025-03-01T09:35:00.000Z',
    actor: system,
    correlation_id: randomUUID(),
    causation_id: null,
    data: event.data as Record<string, unknown>,
  }));
  expect(events.at(-1)!.type).toBe('EssayScored');

  await bed.publish('assessment', events);
  // Only the essay scores projection runs: the assessments projection is "down".
  await bed.startRunner(essayScoresProjection);
  await bed.caughtUp(essayScoresProjection);
  const { rows } = await bed.platform.pool.query<{ status: string; score: string }>(
    'SELECT status, score FROM essay_scores WHERE assessment_id = $1',
    [assessmentId],
  );
  expect(rows).toEqual([{ status: 'scored', score: '3.00' }]);

  // The assessments projection catches up: the score is served with its question.
  await bed.startRunner(assessmentsProjection);
  await bed.caughtUp(assessmentsProjection);
  const views = await essayScoresOf(bed.platform.pool, assessmentId);
  expect(views.map((v) => [v.question_id, v.status, v.score])).toEqual([[design.question_id, 'scored', 3]]);
});
