import Router from '@koa/router';
import * as assessments from '../../../projections/assessments/queries';
import type { AssessmentView } from '../../../projections/assessments/queries';
import { ESSAY_SCORES_PROJECTION } from '../../../projections/essayScores/projection';
import * as essays from '../../../projections/essayScores/queries';
import type { EssayScoreView } from '../../../projections/essayScores/queries';
import { NotFoundError } from '../../platform/errors';
import { actorOf, requireRole } from '../auth/access';
import { dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam } from '../http';
import { requestBody } from '../openapi/contract';
import { EssayOverrideRequest, type EssayOverrideBody } from './essayContract';
import { visibleAssessmentOf } from './visibleAssessment';

/** The contract's EssayScore. */
const presentEssay = (e: EssayScoreView) => ({
  question_id: e.question_id,
  status: e.status,
  score: e.score,
  max_score: e.max_score,
  criteria: e.criteria.map((c) => ({
    criterion_id: c.criterion_id,
    band_score: c.band_score,
    max_band_score: c.max_band_score,
    evidence: c.evidence,
    rationale: c.rationale,
  })),
  rationale: e.rationale,
  provider: e.provider,
  model: e.model,
  prompt_version: e.prompt_version,
  degraded: e.degraded,
  flags: e.flags,
  needs_review: e.needs_review,
  tokens_in: e.tokens_in,
  tokens_out: e.tokens_out,
  cost_cents: e.cost_cents,
  latency_ms: e.latency_ms,
  failure: e.failure,
  override: e.override,
  updated_at: e.updated_at,
});

/**
 * The contract's ScoringProgress: where each question of the assessment stands. Rule-scored
 * questions are scored with their answer; an answered essay is `pending` until the essay
 * scorer reports (its job shows the attempts and the next retry), then `scored`, `failed` or
 * `overridden`.
 */
export async function scoringProgress(deps: ApiDeps, assessment: AssessmentView) {
  const id = assessment.assessment_id;
  await awaitProjection(deps, ESSAY_SCORES_PROJECTION, id);
  const [questions, responses, scores, jobs] = await Promise.all([
    assessments.questionSnapshots(deps.pool, id),
    assessments.responsesOf(deps.pool, id),
    essays.essayScoresOf(deps.pool, id),
    essays.essayJobsOf(deps.pool, deps.config.KAFKA_TOPIC_PREFIX, id),
  ]);
  const responseOf = new Map(responses.map((r) => [r.question_id, r]));
  const scoreOf = new Map(scores.map((s) => [s.question_id, s]));
  const items = questions.map((q) => {
    const base = { question_id: q.question_id, type: q.type, degraded: false, needs_review: false };
    const none = { score: null, max_score: null, provider: null };
    const answer = responseOf.get(q.question_id);
    if (!answer) return { ...base, ...none, status: 'unanswered' as const };
    if (q.type !== 'essay') {
      return answer.rule_score
        ? {
            ...base,
            status: 'rule_scored' as const,
            score: answer.rule_score.score,
            max_score: answer.rule_score.max_score,
            provider: null,
          }
        : { ...base, ...none, status: 'pending' as const };
    }
    const scored = scoreOf.get(q.question_id);
    if (scored) {
      return {
        ...base,
        status: scored.status,
        score: scored.score,
        max_score: scored.max_score ?? q.weight,
        provider: scored.provider,
        degraded: scored.degraded,
        needs_review: scored.needs_review,
      };
    }
    const job = jobs.get(q.question_id);
    return {
      ...base,
      ...none,
      max_score: q.weight,
      status: 'pending' as const,
      job: job
        ? {
            status: job.status,
            attempts: job.attempts,
            next_retry_at: job.status === 'retrying' ? job.next_run_at : null,
            last_error: job.last_error,
          }
        : null,
    };
  });
  return { questions: items, essays_pending: items.filter((i) => i.type === 'essay' && i.status === 'pending').length };
}

/** Essay scores with their evidence (owner, advisors, admins), and an advisor's override. */
export function essayRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/assessments' });
  const visibleAssessment = visibleAssessmentOf(deps);
  const overrideBody = requestBody<EssayOverrideBody>('EssayOverrideRequest', EssayOverrideRequest);

  router.get('/:assessment_id/essays', async (ctx) => {
    const found = await visibleAssessment(ctx, actorOf(ctx));
    await awaitProjection(deps, ESSAY_SCORES_PROJECTION, found.assessment_id);
    const scores = await essays.essayScoresOf(deps.pool, found.assessment_id);
    ctx.body = { assessment_id: found.assessment_id, essays: scores.map(presentEssay) };
  });

  router.post('/:assessment_id/essays/:question_id/override', requireRole('advisor', 'admin'), async (ctx) => {
    const actor = actorOf(ctx);
    const body = overrideBody(ctx);
    const found = await visibleAssessment(ctx, actor);
    const assessment_id = found.assessment_id;
    const question_id = idParam(ctx, 'question_id');
    const questions = await assessments.questionSnapshots(deps.pool, assessment_id);
    if (!questions.some((q) => q.question_id === question_id)) {
      throw new NotFoundError(
        `Question ${question_id} is not part of assessment ${assessment_id}`,
        'ASSESSMENT_QUESTION_NOT_FOUND',
      );
    }
    const key = idempotencyKeyOf(ctx);
    const result = await dispatch(deps.bus, ctx, actor, 'assessment', {
      type: 'OverrideEssayScore',
      aggregate_id: assessment_id,
      ...(key ? { command_id: idFromKey(actor.id, `override:${assessment_id}/${question_id}`, key, 'command') } : {}),
      data: { assessment_id, question_id, score: body.score, reason: body.reason },
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, ESSAY_SCORES_PROJECTION, assessment_id);
    const essay = (await essays.essayScoresOf(deps.pool, assessment_id)).find((e) => e.question_id === question_id);
    if (!essay) throw new NotFoundError(`No essay score for question ${question_id}`, 'ESSAY_SCORE_NOT_FOUND');
    ctx.status = 200;
    ctx.body = presentEssay(essay);
  });

  return router;
}
