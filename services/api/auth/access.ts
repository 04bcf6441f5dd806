import type { Context, Middleware } from 'koa';
import type { Actor, ActorRole } from '../../../domain/shared/decider';
import { ForbiddenError, UnauthorizedError } from '../../platform/errors';

/** The signed-in caller, from the verified token koa-jwt put on ctx.state.user. */
export function actorOf(ctx: Context): Actor {
  const user = ctx.state.user as { sub?: unknown; role?: unknown } | undefined;
  if (!user || typeof user.sub !== 'string' || !['student', 'advisor', 'admin'].includes(String(user.role))) {
    throw new UnauthorizedError('A valid access token is required');
  }
  return { id: user.sub, role: user.role as ActorRole };
}

export function requireRole(...roles: ActorRole[]): Middleware {
  return async (ctx, next) => {
    const actor = actorOf(ctx);
    if (!roles.includes(actor.role)) {
      throw new ForbiddenError(`This needs the ${roles.join(' or ')} role`, 'ROLE_REQUIRED');
    }
    await next();
  };
}

export const isStaff = (actor: Actor): boolean => actor.role === 'advisor' || actor.role === 'admin';
