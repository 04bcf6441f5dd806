import Router from '@koa/router';
import type { Context } from 'koa';
import type { AssessmentView } from '../../../projections/assessments/queries';
import * as assessments from '../../../projections/assessments/queries';
import { RECOMMENDATIONS_PROJECTION } from '../../../projections/recommendations/projection';
import * as recommendations from '../../../projections/recommendations/queries';
import { AppError, ConflictError, NotFoundError, UnprocessableError } from '../../platform/errors';
import { actorOf } from '../auth/access';
import { dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam } from '../http';
import { describeErrors, schemaValidator } from '../openapi/contract';
import { openApiDocument } from '../openapi/document';
import { scoringProgress } from '../assessments/essayRoutes';
import { visibleAssessmentOf } from '../assessments/visibleAssessment';
import { RecommendationFeedbackRequest, type RecommendationFeedbackBody } from './recommendationContract';
import { presentFeedback, presentResult, progressOf } from './present';

/** How long a client polling a result being prepared is asked to wait (seconds). */
export const RESULT_RETRY_AFTER_SECONDS = 2;

/**
 * The feedback body, validated against the served contract: a body that is JSON but not valid
 * feedback is 422 INVALID_FEEDBACK naming each problem (a body that is not JSON is the parser's
 * 400). The contract's schema must be this very object, so the type and the contract agree.
 */
function feedbackBodyReader(): (ctx: Context) => RecommendationFeedbackBody {
  const served = (openApiDocument as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas
    .RecommendationFeedbackRequest;
  if (served !== RecommendationFeedbackRequest) {
    throw new Error("The contract's schema RecommendationFeedbackRequest is not the one given for its body type");
  }
  const validate = schemaValidator('RecommendationFeedbackRequest');
  return (ctx) => {
    const body = (ctx.request as { body?: unknown }).body;
    if (!validate(body)) {
      const problems = describeErrors(validate.errors);
      throw new UnprocessableError(
        `Invalid feedback: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`,
        { problems },
        'INVALID_FEEDBACK',
      );
    }
    return body as RecommendationFeedbackBody;
  };
}

/**
 * An assessment's result (owner, advisors, admins) and feedback on its recommended credentials
 * (the student who took it, advisors, admins; the decider has the last word on who may).
 */
export function recommendationRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const visibleAssessment = visibleAssessmentOf(deps);
  const feedbackBody = feedbackBodyReader();

  router.get('/assessments/:assessment_id/result', async (ctx) => {
    const found = await visibleAssessment(ctx, actorOf(ctx));
    const id = found.assessment_id;
    if (found.status === 'in_progress') {
      throw new ConflictError(
        `Assessment ${id} has not been submitted yet: its result is prepared once it is (POST /assessments/${id}/responses with "completed": true).`,
        'ASSESSMENT_NOT_SUBMITTED',
      );
    }
    await awaitProjection(deps, RECOMMENDATIONS_PROJECTION, id);
    const [result, scoring] = await Promise.all([
      recommendations.recommendationResultOf(deps.pool, id),
      scoringProgress(deps, found),
    ]);
    const recommendation = result?.recommendation;
    if (found.status === 'failed' || recommendation?.status === 'failed') throw assessmentFailed(found, recommendation);
    if (result && recommendation?.status === 'ready' && recommendation.completed_at !== null) {
      const questions = await assessments.questionSnapshots(deps.pool, id);
      ctx.body = presentResult(result, scoring, questions);
      return;
    }
    ctx.status = 202;
    ctx.set('Retry-After', String(RESULT_RETRY_AFTER_SECONDS));
    ctx.body = {
      assessment_id: id,
      status: found.status,
      progress: progressOf(scoring, recommendation),
      retry_after_seconds: RESULT_RETRY_AFTER_SECONDS,
      message:
        found.status === 'completed'
          ? 'The result is recorded and about to be readable; retry shortly.'
          : 'The essays are being scored and the recommendations prepared; retry after Retry-After seconds.',
    };
  });

  router.post('/recommendations/:recommendation_id/feedback', async (ctx) => {
    const actor = actorOf(ctx);
    const pathId = idParam(ctx, 'recommendation_id');
    const body = feedbackBody(ctx);
    if (body.submitted_by_role !== undefined && body.submitted_by_role !== actor.role) {
      throw new UnprocessableError(
        `submitted_by_role is "${body.submitted_by_role}" but you are signed in as ${actor.role === 'admin' ? 'an' : 'a'} ${actor.role}: leave it out, or send your own role.`,
        { field: 'submitted_by_role', actor_role: actor.role },
        'SUBMITTER_ROLE_MISMATCH',
      );
    }
    const target = await feedbackTarget(deps, pathId, body.credential_id?.toLowerCase());
    const key = idempotencyKeyOf(ctx);
    const result = await dispatch(deps.bus, ctx, actor, 'assessment', {
      type: 'SubmitRecommendationFeedback',
      aggregate_id: target.assessment_id,
      ...(key
        ? {
            command_id: idFromKey(
              actor.id,
              `feedback:${target.recommendation_id}/${target.credential_id}`,
              key,
              'command',
            ),
          }
        : {}),
      data: {
        assessment_id: target.assessment_id,
        recommendation_id: target.recommendation_id,
        credential_id: target.credential_id,
        relevance_score: body.relevance_score,
        acceptance_status: body.acceptance_status ?? null,
        comments: body.comments ?? null,
      },
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, RECOMMENDATIONS_PROJECTION, target.assessment_id);
    const [recorded] = await recommendations.feedbackOf(deps.pool, target.recommendation_id, {
      credentialId: target.credential_id,
      submittedBy: actor.id,
    });
    // Decided, but not readable yet (the read model is behind): the command's status says how it went.
    if (!recorded) return respondPending(ctx, result.reply.command_id);
    ctx.status = 201;
    ctx.body = presentFeedback(recorded, result.reply.events.length > 0);
  });

  return router;
}

/** 409 ASSESSMENT_FAILED, with the reason when the read model has it. */
function assessmentFailed(found: AssessmentView, recommendation: recommendations.RecommendationView | undefined) {
  const reason = recommendation?.failed_reason ?? null;
  return new AppError(
    'ASSESSMENT_FAILED',
    `Assessment ${found.assessment_id} failed${reason ? `: ${reason}` : ''}. It has no result.`,
    409,
    { reason, failed_at: recommendation?.failed_at ?? null },
  );
}

/**
 * What the feedback is about: the path names a recommendation (then `credential_id` says which
 * item) or one of its items (then `credential_id` may be left out, or must agree). Unknown: 404.
 */
async function feedbackTarget(
  deps: ApiDeps,
  pathId: string,
  credentialId: string | undefined,
): Promise<{ assessment_id: string; recommendation_id: string; credential_id: string }> {
  const recommendation = await recommendations.findRecommendation(deps.pool, pathId);
  if (recommendation) {
    if (credentialId === undefined) {
      throw new UnprocessableError(
        'credential_id is required: which recommended credential is the feedback about? (Or post to an item: /recommendations/{item_id}/feedback.)',
        { field: 'credential_id' },
        'CREDENTIAL_ID_REQUIRED',
      );
    }
    return {
      assessment_id: recommendation.assessment_id,
      recommendation_id: recommendation.recommendation_id,
      credential_id: credentialId,
    };
  }
  const item = await recommendations.findRecommendationItem(deps.pool, pathId);
  const owner = item ? await recommendations.findRecommendation(deps.pool, item.recommendation_id) : undefined;
  if (!item || !owner) {
    throw new NotFoundError(`No recommendation (or recommendation item) with id ${pathId}`, 'RECOMMENDATION_NOT_FOUND');
  }
  if (credentialId !== undefined && credentialId !== item.credential_id) {
    throw new UnprocessableError(
      `Item ${pathId} recommends credential ${item.credential_id}, not ${credentialId}: leave credential_id out, or post to the recommendation.`,
      { field: 'credential_id', credential_id: item.credential_id },
      'CREDENTIAL_MISMATCH',
    );
  }
  return {
    assessment_id: owner.assessment_id,
    recommendation_id: owner.recommendation_id,
    credential_id: item.credential_id,
  };
}
