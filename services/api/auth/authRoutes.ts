import Router from '@koa/router';
import bcrypt from 'bcrypt';
import type { Context, Middleware } from 'koa';
import { randomBytes } from 'node:crypto';
import { normaliseEmail, userIdForEmail } from '../../../domain/shared/ids';
import type { Actor } from '../../../domain/shared/decider';
import { v5 as uuidv5 } from 'uuid';
import { ConflictError, UnauthorizedError, UnprocessableError } from '../../platform/errors';
import { dispatch, respondPending } from '../commands/dispatch';
import { awaitProjection, type ApiDeps } from '../deps';
import { validateBody } from '../openapi/contract';
import { actorOf, requireRole } from './access';
import { passwordProblems } from './passwordPolicy';
import { SignInThrottle } from './signInThrottle';
import { issueToken } from './tokens';
import { USERS_PROJECTION } from '../../../projections/identity/projection';

const REGISTRATION_NAMESPACE = 'c6a1e0b4-2f7d-4b8e-9a35-0d4e6f1b2c73';

interface Credentials {
  email: string;
  password: string;
}

function requireStrongPassword(password: string, email: string): void {
  const problems = passwordProblems(password, email);
  if (problems.length > 0) {
    throw new UnprocessableError(`Password ${problems.join('; ')}`, { problems }, 'WEAK_PASSWORD');
  }
}

/**
 * The contract states the password policy (length, letter and digit), so the body check would
 * refuse a weak password as malformed (400); the policy answers first, with its own 422
 * WEAK_PASSWORD naming every rule broken, as the contract documents.
 */
const passwordPolicyFirst: Middleware = async (ctx, next) => {
  const body = (ctx.request as { body?: unknown }).body as { email?: unknown; password?: unknown } | undefined;
  if (typeof body?.email === 'string' && typeof body.password === 'string') {
    requireStrongPassword(body.password, normaliseEmail(body.email));
  }
  await next();
};

/**
 * Registers a user: the identity decider enforces the unique email (the user id is derived from
 * it); the password hash is a secret, so it never enters an event — it is stored once the
 * registration is accepted. The command id is derived from the email: if the API crashed
 * between acceptance and storing the hash, a retry gets the original acceptance back and
 * completes the registration; a second registrant finds the hash stored and gets 409.
 */
export async function registerUser(
  deps: ApiDeps,
  ctx: Context,
  actor: Actor,
  input: Credentials & { role: 'student' | 'advisor' | 'admin' },
): Promise<void> {
  const email = normaliseEmail(input.email);
  requireStrongPassword(input.password, email);
  const userId = userIdForEmail(email);
  const hash = await bcrypt.hash(input.password, deps.config.BCRYPT_COST);
  const result = await dispatch(deps.bus, ctx, actor, 'identity', {
    type: 'RegisterUser',
    aggregate_id: userId,
    command_id: uuidv5(`register:${email}`, REGISTRATION_NAMESPACE),
    data: { user_id: userId, email, role: input.role },
  });
  if (result.status === 'pending') return respondPending(ctx, result.command_id);
  const { rowCount } = await deps.pool.query(
    'INSERT INTO user_credentials (user_id, password_hash) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING',
    [userId, hash],
  );
  if (rowCount === 0) throw new ConflictError('This email is already registered', 'EMAIL_ALREADY_REGISTERED');
  ctx.status = 201;
  ctx.body = { user_id: userId };
}

export function authRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const throttle = SignInThrottle.fromConfig(deps.pool, deps.config, deps.logger);
  // Compared against when the email is unknown, so a sign-in does the same bcrypt work (same
  // cost as real hashes) whether or not the address is registered. Hashed once, off the event
  // loop, while the process starts; of a random password nobody knows.
  const dummyHash = bcrypt.hash(randomBytes(18).toString('base64'), deps.config.BCRYPT_COST);
  dummyHash.catch(() => undefined); // surfaces at the first sign-in that needs it

  router.post('/auth/register', passwordPolicyFirst, validateBody('RegisterRequest'), async (ctx) => {
    const body = ctx.request.body as Credentials;
    const userId = userIdForEmail(normaliseEmail(body.email));
    // Self-registration: the new user is the actor of their own registration.
    await registerUser(deps, ctx, { id: userId, role: 'student' }, { ...body, role: 'student' });
  });

  router.post(
    '/admin/users',
    requireRole('admin'),
    passwordPolicyFirst,
    validateBody('CreateUserRequest'),
    async (ctx) => {
      const body = ctx.request.body as Credentials & { role: 'student' | 'advisor' | 'admin' };
      await registerUser(deps, ctx, actorOf(ctx), body);
    },
  );

  router.post('/auth/token', validateBody('TokenRequest'), async (ctx) => {
    const body = ctx.request.body as Credentials;
    const userId = userIdForEmail(normaliseEmail(body.email));
    const emailHash = throttle.emailHash(body.email);
    // Before any password check: a locked email is refused whoever it belongs to, at no bcrypt cost.
    await throttle.assertNotLocked(emailHash);
    await awaitProjection(deps, USERS_PROJECTION, userId);
    const { rows } = await deps.pool.query<{
      password_hash: string;
      role: 'student' | 'advisor' | 'admin' | null;
      status: string | null;
    }>(
      `SELECT c.password_hash, u.role, u.status
         FROM user_credentials c LEFT JOIN users u ON u.id = c.user_id
        WHERE c.user_id = $1`,
      [userId],
    );
    const row = rows[0];
    // Unknown and disabled accounts go through the same comparison as a wrong password.
    const ok = await bcrypt.compare(body.password, row?.password_hash ?? (await dummyHash));
    if (!row || !ok || !row.role || row.status !== 'active') {
      await throttle.recordFailure(emailHash, ctx.ip);
      throw new UnauthorizedError('Email or password is not right', 'INVALID_CREDENTIALS');
    }
    await throttle.recordSuccess(emailHash);
    const ttl = deps.config.JWT_TTL_SECONDS;
    ctx.body = {
      access_token: issueToken({ sub: userId, role: row.role }, deps.config.JWT_SECRET!, ttl),
      token_type: 'bearer',
      expires_in: ttl,
    };
  });

  return router;
}

/**
 * The first admin comes from configuration (BOOTSTRAP_ADMIN_EMAIL / _PASSWORD). Idempotent:
 * an existing account is left as it is. Retries in the background until the identity decider
 * answers, so the API can serve while deciders catch up.
 */
export async function ensureBootstrapAdmin(deps: ApiDeps, signal: AbortSignal): Promise<void> {
  const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = deps.config;
  if (!email || !password) return;
  const ctx = {
    state: { correlationId: `bootstrap-admin-${Date.now()}` },
    status: 0,
    body: undefined,
    set: () => undefined,
  } as unknown as Context;
  while (!signal.aborted) {
    try {
      await registerUser(deps, ctx, { id: 'system:bootstrap', role: 'system' }, { email, password, role: 'admin' });
      if (ctx.status === 201)
        deps.logger.info({ user_id: userIdForEmail(normaliseEmail(email)) }, 'bootstrap admin created');
      if (ctx.status !== 202) return;
    } catch (err) {
      if (err instanceof ConflictError) return; // already there
      deps.logger.warn({ err }, 'bootstrap admin not created yet; retrying');
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
