import Router from '@koa/router';
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import { BadRequestError } from '../../platform/errors';
import { idParam, intParam, orNotFound } from '../http';
import { isUuid } from '../../../domain/shared/ids';
import { actorOf, requireRole } from '../auth/access';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { dispatch, respondPending } from '../commands/dispatch';
import { awaitProjection, type ApiDeps } from '../deps';
import { validateBody } from '../openapi/contract';
import * as catalog from '../../../projections/catalog/queries';
import { CATALOG_PROJECTION } from '../../../projections/catalog/projection';
import { presentCredential, presentQuestion, presentRole } from './present';

/** Catalog administration (admins) and browsing (any signed-in user). */
export function catalogRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/catalog' });
  const admin = requireRole('admin');

  /** Sends a catalog command, then answers with the entity as the read model shows it. */
  async function write(
    ctx: Context,
    command: { type: string; aggregate_id: string; data: Record<string, unknown> },
    present: () => Promise<unknown>,
    status: number,
  ): Promise<void> {
    const actor = actorOf(ctx);
    const key = idempotencyKeyOf(ctx);
    const result = await dispatch(deps.bus, ctx, actor, 'catalog', {
      ...command,
      ...(key ? { command_id: idFromKey(actor.id, `${command.type}:${command.aggregate_id}`, key, 'command') } : {}),
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, CATALOG_PROJECTION, command.aggregate_id);
    ctx.status = status;
    if (status !== 204) ctx.body = await present();
  }

  const newId = (ctx: Context, scope: string) => {
    const key = idempotencyKeyOf(ctx);
    return key ? idFromKey(actorOf(ctx).id, scope, key, 'aggregate') : randomUUID();
  };

  const roleOr404 = (id: string) =>
    orNotFound(catalog.findRole(deps.pool, id), `Role ${id} not found`, 'ROLE_NOT_FOUND');
  const questionOr404 = (id: string) =>
    orNotFound(catalog.findQuestion(deps.pool, id), `Question ${id} not found`, 'QUESTION_NOT_FOUND');
  const credentialOr404 = (id: string) =>
    orNotFound(catalog.findCredential(deps.pool, id), `Credential ${id} not found`, 'CREDENTIAL_NOT_FOUND');

  // --- Roles ---------------------------------------------------------------------------------
  router.get('/roles', async (ctx) => {
    actorOf(ctx);
    ctx.body = { items: (await catalog.listActiveRoles(deps.pool)).map(presentRole) };
  });

  router.post('/roles', admin, validateBody('RoleInput'), async (ctx) => {
    const role_id = newId(ctx, 'role');
    await write(
      ctx,
      { type: 'CreateRole', aggregate_id: role_id, data: { role_id, ...(ctx.request.body as object) } },
      async () => presentRole(await roleOr404(role_id)),
      201,
    );
  });

  router.put('/roles/:role_id', admin, validateBody('RoleInput'), async (ctx) => {
    const role_id = idParam(ctx, 'role_id');
    await write(
      ctx,
      { type: 'ReviseRole', aggregate_id: role_id, data: { role_id, ...(ctx.request.body as object) } },
      async () => presentRole(await roleOr404(role_id)),
      200,
    );
  });

  router.delete('/roles/:role_id', admin, async (ctx) => {
    const role_id = idParam(ctx, 'role_id');
    await write(ctx, { type: 'RetireRole', aggregate_id: role_id, data: { role_id } }, async () => undefined, 204);
  });

  router.get('/roles/:role_id/questions', requireRole('advisor', 'admin'), async (ctx) => {
    const role_id = idParam(ctx, 'role_id');
    await roleOr404(role_id);
    ctx.body = { items: (await catalog.listQuestionsOfRole(deps.pool, role_id)).map(presentQuestion) };
  });

  // --- Questions -----------------------------------------------------------------------------
  router.post('/questions', admin, validateBody('QuestionInput'), async (ctx) => {
    const body = ctx.request.body as { role_id: string; choices?: string[] | null; required?: boolean };
    await roleOr404(body.role_id); // another aggregate: the API checks the role exists
    const question_id = newId(ctx, 'question');
    await write(
      ctx,
      {
        type: 'CreateQuestion',
        aggregate_id: question_id,
        data: { ...body, question_id, choices: body.choices ?? null, required: body.required ?? true },
      },
      async () => presentQuestion(await questionOr404(question_id)),
      201,
    );
  });

  router.put('/questions/:question_id', admin, validateBody('QuestionRevisionInput'), async (ctx) => {
    const question_id = idParam(ctx, 'question_id');
    await write(
      ctx,
      { type: 'ReviseQuestion', aggregate_id: question_id, data: { question_id, ...(ctx.request.body as object) } },
      async () => presentQuestion(await questionOr404(question_id)),
      200,
    );
  });

  router.delete('/questions/:question_id', admin, async (ctx) => {
    const question_id = idParam(ctx, 'question_id');
    await write(
      ctx,
      { type: 'RetireQuestion', aggregate_id: question_id, data: { question_id } },
      async () => undefined,
      204,
    );
  });

  // --- Credentials ---------------------------------------------------------------------------
  router.get('/credentials', async (ctx) => {
    actorOf(ctx);
    const page = intParam(ctx.query.page, 1, 1, 1_000_000, 'page');
    const pageSize = intParam(ctx.query.page_size, 25, 10, 100, 'page_size');
    const roleId = typeof ctx.query.role_id === 'string' && ctx.query.role_id !== '' ? ctx.query.role_id : undefined;
    if (roleId && !isUuid(roleId)) throw new BadRequestError('role_id must be a UUID', undefined, 'INVALID_QUERY');
    if (roleId) await roleOr404(roleId);
    const { items, total } = await catalog.listCredentials(deps.pool, { roleId, page, pageSize });
    ctx.body = { items: items.map(presentCredential), page, page_size: pageSize, total };
  });

  router.get('/credentials/:credential_id', async (ctx) => {
    actorOf(ctx);
    ctx.body = presentCredential(await credentialOr404(idParam(ctx, 'credential_id')));
  });

  router.post('/credentials', admin, validateBody('CredentialInput'), async (ctx) => {
    const credential_id = newId(ctx, 'credential');
    await write(
      ctx,
      {
        type: 'CreateCredential',
        aggregate_id: credential_id,
        data: { credential_id, ...(ctx.request.body as object) },
      },
      async () => presentCredential(await credentialOr404(credential_id)),
      201,
    );
  });

  router.put('/credentials/:credential_id', admin, validateBody('CredentialInput'), async (ctx) => {
    const credential_id = idParam(ctx, 'credential_id');
    await write(
      ctx,
      {
        type: 'ReviseCredential',
        aggregate_id: credential_id,
        data: { credential_id, ...(ctx.request.body as object) },
      },
      async () => presentCredential(await credentialOr404(credential_id)),
      200,
    );
  });

  router.delete('/credentials/:credential_id', admin, async (ctx) => {
    const credential_id = idParam(ctx, 'credential_id');
    await write(
      ctx,
      { type: 'RetireCredential', aggregate_id: credential_id, data: { credential_id } },
      async () => undefined,
      204,
    );
  });

  return router;
}
