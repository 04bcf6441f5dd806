import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { randomUUID } from 'node:crypto';
import { documentTextProblem } from '../../../domain/catalog/knowledgeDocument';
import { CATALOG_PROJECTION } from '../../../projections/catalog/projection';
import * as catalog from '../../../projections/catalog/queries';
import { ForbiddenError, UnprocessableError } from '../../platform/errors';
import { actorOf, requireRole } from '../auth/access';
import { dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { boolParam, idParam, intParam, orNotFound } from '../http';
import { requestBody } from '../openapi/contract';
import { API_PREFIX } from '../openapi/document';
import {
  DOCUMENT_BODY_LIMIT,
  KnowledgeDocumentInput,
  KnowledgeDocumentRevisionInput,
  type KnowledgeDocumentInputBody,
  type KnowledgeDocumentRevisionBody,
} from './documentsContract';

const DOCUMENTS_PATH = new RegExp(`^${API_PREFIX}/catalog/documents(/[^/]+)?/?$`);
const documentParser = bodyParser({ enableTypes: ['json'], jsonLimit: DOCUMENT_BODY_LIMIT, encoding: 'utf-8' });

/**
 * The body parser of a document write (JSON up to 4 MB: a text of 200,000 characters in any
 * script fits; beyond: 413). Installed before the API's general 256 kB JSON parser, which then
 * leaves the parsed body alone.
 */
export const documentsBodyParser: Middleware = (ctx, next) =>
  (ctx.method === 'POST' || ctx.method === 'PUT') && DOCUMENTS_PATH.test(ctx.path) ? documentParser(ctx, next) : next();

/** Read-model view → the contract's KnowledgeDocument. */
export const presentDocument = (d: catalog.KnowledgeDocumentView) => ({
  document_id: d.document_id,
  title: d.title,
  source_uri: d.source_uri,
  version: d.version,
  status: d.status,
  active: d.status === 'active',
  text_length: d.text_length,
  ...(d.text !== undefined ? { text: d.text } : {}),
  created_at: d.created_at,
  updated_at: d.updated_at,
  retired_at: d.retired_at,
});

/**
 * Knowledge documents: admins add, revise and retire them; any signed-in user lists and reads
 * them (their passages are the evidence behind recommendations).
 */
export function documentRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/catalog/documents' });
  const admin = requireRole('admin');
  const addBody = requestBody<KnowledgeDocumentInputBody>('KnowledgeDocumentInput', KnowledgeDocumentInput);
  const reviseBody = requestBody<KnowledgeDocumentRevisionBody>(
    'KnowledgeDocumentRevisionInput',
    KnowledgeDocumentRevisionInput,
  );

  const documentOr404 = (id: string) =>
    orNotFound(catalog.findDocument(deps.pool, id), `Document ${id} not found`, 'DOCUMENT_NOT_FOUND');

  /** Sends a document command, then answers with the document as the read model shows it. */
  async function write(
    ctx: Context,
    type: string,
    document_id: string,
    data: Record<string, unknown>,
    status: 200 | 201 | 204,
  ): Promise<void> {
    const actor = actorOf(ctx);
    const key = idempotencyKeyOf(ctx);
    const result = await dispatch(deps.bus, ctx, actor, 'catalog', {
      type,
      aggregate_id: document_id,
      data: { document_id, ...data },
      ...(key ? { command_id: idFromKey(actor.id, `${type}:${document_id}`, key, 'command') } : {}),
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, CATALOG_PROJECTION, document_id);
    ctx.status = status;
    if (status !== 204) ctx.body = presentDocument(await documentOr404(document_id));
  }

  router.get('/', async (ctx) => {
    const actor = actorOf(ctx);
    const page = intParam(ctx.query.page, 1, 1, 1_000_000, 'page');
    const pageSize = intParam(ctx.query.page_size, 25, 10, 100, 'page_size');
    const includeRetired = boolParam(ctx.query.include_retired, 'include_retired');
    const withText = boolParam(ctx.query.include_text, 'include_text');
    if (includeRetired && actor.role !== 'admin') {
      throw new ForbiddenError('include_retired=true is for admins', 'ROLE_REQUIRED');
    }
    const { items, total } = await catalog.listDocuments(deps.pool, { page, pageSize, includeRetired, withText });
    ctx.body = { items: items.map(presentDocument), page, page_size: pageSize, total };
  });

  router.get('/:document_id', async (ctx) => {
    actorOf(ctx);
    const document_id = idParam(ctx, 'document_id');
    await awaitProjection(deps, CATALOG_PROJECTION, document_id);
    ctx.body = presentDocument(await documentOr404(document_id));
  });

  router.post('/', admin, async (ctx) => {
    const body = addBody(ctx);
    refuseBadText(body.text);
    const key = idempotencyKeyOf(ctx);
    const document_id = key ? idFromKey(actorOf(ctx).id, 'document', key, 'aggregate') : randomUUID();
    await write(ctx, 'AddKnowledgeDocument', document_id, body, 201);
  });

  router.put('/:document_id', admin, async (ctx) => {
    const document_id = idParam(ctx, 'document_id');
    const body = reviseBody(ctx);
    if (typeof body.text === 'string') refuseBadText(body.text);
    await write(ctx, 'ReviseKnowledgeDocument', document_id, body, 200);
  });

  router.delete('/:document_id', admin, async (ctx) => {
    const document_id = idParam(ctx, 'document_id');
    await write(ctx, 'RetireKnowledgeDocument', document_id, {}, 204);
  });

  return router;
}

/**
 * The decider refuses a bad text too; checking here first keeps an oversized text out of the
 * log (a command must fit one Kafka record) and answers at once. Same rule, same message.
 */
function refuseBadText(text: string): void {
  const problem = documentTextProblem(text);
  if (problem !== undefined) throw new UnprocessableError(problem, { field: 'text' }, 'INVALID_DOCUMENT');
}
