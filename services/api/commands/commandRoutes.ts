import Router from '@koa/router';
import { findCommandOutcome } from '../../../projections/commandOutcomes/commandOutcomes';
import { ForbiddenError } from '../../platform/errors';
import { actorOf, isStaff } from '../auth/access';
import type { ApiDeps } from '../deps';
import { idParam } from '../http';

/** Status of a command that was answered "202 pending": its outcome once a decider has decided it. */
export function commandRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/commands' });
  router.get('/:command_id', async (ctx) => {
    const actor = actorOf(ctx);
    const command_id = idParam(ctx, 'command_id');
    const outcome = await findCommandOutcome(deps.pool, command_id);
    if (!outcome) {
      // Not decided yet (or never sent): both look the same from here, and both mean "wait".
      ctx.body = { command_id, status: 'pending' };
      return;
    }
    if (!isStaff(actor) && outcome.issued_by !== actor.id) {
      throw new ForbiddenError('You can only see the status of your own commands', 'NOT_COMMAND_ISSUER');
    }
    ctx.body = {
      command_id,
      status: outcome.outcome,
      aggregate_id: outcome.aggregate_id,
      events: outcome.events,
      error: outcome.error ? { error_code: outcome.error.code, message: outcome.error.message } : null,
    };
  });
  return router;
}
