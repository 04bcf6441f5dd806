import type { Context } from 'koa';
import type { Actor } from '../../../domain/shared/decider';
import { ASSESSMENTS_PROJECTION } from '../../../projections/assessments/projection';
import * as assessments from '../../../projections/assessments/queries';
import { ForbiddenError } from '../../platform/errors';
import { isStaff } from '../auth/access';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam, orNotFound } from '../http';

/**
 * The assessment named by the path as the caller may see it: students only their own (403
 * NOT_ASSESSMENT_OWNER otherwise); advisors and admins all. Unknown: 404.
 */
export function visibleAssessmentOf(deps: ApiDeps) {
  return async (ctx: Context, actor: Actor): Promise<assessments.AssessmentView> => {
    const id = idParam(ctx, 'assessment_id');
    await awaitProjection(deps, ASSESSMENTS_PROJECTION, id);
    const found = await orNotFound(
      assessments.findAssessment(deps.pool, id),
      `Assessment ${id} not found`,
      'ASSESSMENT_NOT_FOUND',
    );
    if (!isStaff(actor) && found.user_id !== actor.id) {
      throw new ForbiddenError('You can only see your own assessments', 'NOT_ASSESSMENT_OWNER');
    }
    return found;
  };
}
