import Router from '@koa/router';
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import { createWebhookSubscription } from '../../../domain/identity/decideWebhookSubscription';
import type { Actor } from '../../../domain/shared/decider';
import { initialWebhookSubscriptionState, normaliseWebhookUrl } from '../../../domain/identity/webhookSubscription';
import { WEBHOOK_SUBSCRIPTIONS_PROJECTION } from '../../../projections/webhooks/projection';
import {
  listWebhookSubscriptions,
  previousSecretValidUntil,
  webhookScope,
  webhookSubscriptionById,
  type WebhookSubscriptionView,
} from '../../../projections/webhooks/queries';
import { secretIdForCommand, type WebhookSecrets, webhookSecretsFrom } from '../../webhooks/secrets';
import { checkWebhookUrl, webhookUrlPolicy } from '../../webhooks/urlPolicy';
import { actorOf, requireRole } from '../auth/access';
import { CommandRejectedError, dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam, orNotFound } from '../http';
import { requestBody } from '../openapi/contract';
import {
  WebhookSecretRotationInput,
  WebhookSubscriptionInput,
  WebhookSubscriptionPatch,
  type WebhookSecretRotationBody,
  type WebhookSubscriptionInputBody,
  type WebhookSubscriptionPatchBody,
} from './subscriptionContract';

/** Read-model view → the contract's WebhookSubscription (never a secret: the view has none). */
export const presentSubscription = (s: WebhookSubscriptionView) => ({
  id: s.id,
  url: s.url,
  event_types: s.event_types,
  description: s.description,
  enabled: s.enabled,
  ordered: s.ordered,
  disabled_reason: s.disabled_reason,
  created_at: s.created_at,
  updated_at: s.updated_at,
  version: s.version,
});

const withoutUndefined = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));

/**
 * Partners' webhook subscriptions, admin only: create (the answer shows the signing secret, the
 * only time), list, read, change, enable/disable, delete, rotate the secret. URLs pass the SSRF
 * policy before anything is written. Secrets are issued here, before the command that refers to
 * them by id, and never appear in events, logs or reads.
 */
export function webhookSubscriptionRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/admin/webhooks' });
  const admin = requireRole('admin');
  const scope = webhookScope(deps.config);
  const policy = webhookUrlPolicy(deps.config);
  const createBody = requestBody<WebhookSubscriptionInputBody>('WebhookSubscriptionInput', WebhookSubscriptionInput);
  const patchBody = requestBody<WebhookSubscriptionPatchBody>('WebhookSubscriptionPatch', WebhookSubscriptionPatch);
  const readRotationBody = requestBody<WebhookSecretRotationBody>(
    'WebhookSecretRotationInput',
    WebhookSecretRotationInput,
  );
  // The body is optional: no body is an empty one.
  const rotationBody = (ctx: Context): WebhookSecretRotationBody => {
    const request = ctx.request as { body?: unknown };
    if (request.body === undefined || request.body === null || request.body === '') request.body = {};
    return readRotationBody(ctx);
  };
  // Built on first use, so that an API without WEBHOOK_SECRETS_KEY serves everything else and
  // answers 503 WEBHOOK_SECRETS_NOT_CONFIGURED here, saying what to set.
  let secretsStore: WebhookSecrets | undefined;
  const secrets = () => (secretsStore ??= webhookSecretsFrom(deps.pool, deps.config));

  const current = async (id: string) => {
    await awaitProjection(deps, WEBHOOK_SUBSCRIPTIONS_PROJECTION, id);
    return webhookSubscriptionById(deps.pool, id, scope);
  };
  const currentOr404 = (id: string) =>
    orNotFound(current(id), `Webhook subscription ${id} not found`, 'WEBHOOK_SUBSCRIPTION_NOT_FOUND');

  /** Command ids from the Idempotency-Key when there is one (a retry is the same command), else fresh. */
  const commandIdFor = (actor: Actor, key: string | undefined, type: string, id: string) =>
    key ? idFromKey(actor.id, `${type}:${id}`, key, 'command') : randomUUID();

  /**
   * Sends a command; when it is refused, the secret issued for it is discarded (unless the
   * refusal is a conflict: a late retry of an accepted command refers to the live secret).
   */
  async function send(
    ctx: Context,
    actor: Actor,
    type: string,
    id: string,
    data: Record<string, unknown>,
    commandId: string,
    issuedSecretId?: string,
  ) {
    try {
      return await dispatch(deps.bus, ctx, actor, 'identity', {
        type,
        aggregate_id: id,
        data: withoutUndefined({ subscription_id: id, ...data }),
        command_id: commandId,
      });
    } catch (err) {
      if (issuedSecretId && err instanceof CommandRejectedError && err.reply.error?.kind !== 'conflict') {
        await secrets().discardUnused(id, issuedSecretId);
      }
      throw err;
    }
  }

  router.get('/', admin, async (ctx) => {
    ctx.body = { items: (await listWebhookSubscriptions(deps.pool, scope)).map(presentSubscription) };
  });

  router.get('/:id', admin, async (ctx) => {
    ctx.body = presentSubscription(await currentOr404(idParam(ctx, 'id')));
  });

  router.post('/', admin, async (ctx) => {
    const body = createBody(ctx);
    const actor = actorOf(ctx);
    const key = idempotencyKeyOf(ctx);
    const id = key ? idFromKey(actor.id, 'webhook_subscription', key, 'aggregate') : randomUUID();
    const commandId = commandIdFor(actor, key, 'CreateWebhookSubscription', id);
    const secretId = secretIdForCommand(commandId);
    const data = {
      url: body.url,
      event_types: body.event_types,
      description: body.description,
      ordered: body.ordered,
      secret_id: secretId,
    };
    // The decider's own rules on a fresh subscription, then where the URL points: a refused
    // request writes nothing (no secret, no command in the log). Same rules, same answers.
    const now = new Date().toISOString();
    createWebhookSubscription(
      {
        type: 'CreateWebhookSubscription',
        data: { subscription_id: id, ...data },
        metadata: { command_id: commandId, now, actor },
      },
      initialWebhookSubscriptionState(),
    );
    await checkWebhookUrl(body.url, policy);
    const secret = await secrets().issue(id, secretId);
    const result = await send(ctx, actor, 'CreateWebhookSubscription', id, data, commandId, secretId);
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    const view = await current(id);
    ctx.status = 201;
    ctx.body = {
      ...(view
        ? presentSubscription(view)
        : // The read model is late (beyond READ_YOUR_WRITES_TIMEOUT_MS): what was decided.
          {
            id,
            url: normaliseWebhookUrl(body.url),
            event_types: body.event_types,
            description: body.description?.trim() || null,
            enabled: true,
            ordered: body.ordered ?? false,
            disabled_reason: null,
            created_at: now,
            updated_at: now,
            version: 1,
          }),
      secret,
    };
  });

  router.patch('/:id', admin, async (ctx) => {
    const id = idParam(ctx, 'id');
    const body = patchBody(ctx);
    const actor = actorOf(ctx);
    const key = idempotencyKeyOf(ctx);
    const before = await currentOr404(id);
    const { enabled, url, event_types, description, ordered } = body;
    if (url !== undefined) await checkWebhookUrl(url, policy);
    if ([url, event_types, description, ordered].some((v) => v !== undefined)) {
      // The HTTP null removes the description; the command's null would keep it.
      const data = { url, event_types, description: description === null ? '' : description, ordered };
      const type = 'UpdateWebhookSubscription';
      const result = await send(ctx, actor, type, id, data, commandIdFor(actor, key, type, id));
      if (result.status === 'pending') return respondPending(ctx, result.command_id);
    }
    if (enabled !== undefined && enabled !== before.enabled) {
      const type = enabled ? 'EnableWebhookSubscription' : 'DisableWebhookSubscription';
      try {
        const result = await send(ctx, actor, type, id, {}, commandIdFor(actor, key, type, id));
        if (result.status === 'pending') return respondPending(ctx, result.command_id);
      } catch (err) {
        // Someone (or the deliverer, on a 410) got there first: the state asked for holds.
        const code = err instanceof CommandRejectedError ? err.reply.error?.code : undefined;
        if (code !== 'WEBHOOK_SUBSCRIPTION_ALREADY_ENABLED' && code !== 'WEBHOOK_SUBSCRIPTION_ALREADY_DISABLED') {
          throw err;
        }
      }
    }
    ctx.body = presentSubscription(await currentOr404(id));
  });

  router.delete('/:id', admin, async (ctx) => {
    const id = idParam(ctx, 'id');
    const actor = actorOf(ctx);
    await currentOr404(id);
    const type = 'DeleteWebhookSubscription';
    const result = await send(ctx, actor, type, id, {}, commandIdFor(actor, idempotencyKeyOf(ctx), type, id));
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, WEBHOOK_SUBSCRIPTIONS_PROJECTION, id);
    ctx.status = 204;
  });

  router.post('/:id/rotate-secret', admin, async (ctx) => {
    const id = idParam(ctx, 'id');
    const body = rotationBody(ctx);
    const actor = actorOf(ctx);
    await currentOr404(id);
    const type = 'RotateWebhookSecret';
    const commandId = commandIdFor(actor, idempotencyKeyOf(ctx), type, id);
    const secretId = secretIdForCommand(commandId);
    const overlap = body.overlap_seconds ?? deps.config.WEBHOOK_SECRET_OVERLAP_SECONDS;
    const previousValidUntil = new Date(Date.now() + overlap * 1000).toISOString();
    const secret = await secrets().issue(id, secretId);
    const data = { secret_id: secretId, previous_valid_until: previousValidUntil };
    const result = await send(ctx, actor, type, id, data, commandId, secretId);
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, WEBHOOK_SUBSCRIPTIONS_PROJECTION, id);
    // A retry answers the end its first attempt recorded; none is recorded when the overlap is over.
    const recorded = await previousSecretValidUntil(deps.pool, id, secretId, scope);
    ctx.body = { secret, previous_valid_until: recorded ?? previousValidUntil };
  });

  return router;
}
