import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { randomUUID } from 'node:crypto';
import { CATALOG_PROJECTION } from '../../../projections/catalog/projection';
import * as catalog from '../../../projections/catalog/queries';
import { ESSAY_EXAMPLES_PROJECTION } from '../../../projections/essayScores/projection';
import { scoredExamplesSummary } from '../../../projections/essayScores/queries';
import { AppError, BadRequestError, UnprocessableError } from '../../platform/errors';
import { TsvFormatError, parseScoredExamplesTsv } from '../../processors/essayScoring/offline/scoredExamplesTsv';
import { actorOf, requireRole } from '../auth/access';
import { CommandRejectedError, dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam, orNotFound } from '../http';
import { requestBody } from '../openapi/contract';
import { API_PREFIX } from '../openapi/document';
import {
  SCORED_EXAMPLES_BODY_LIMIT,
  ScoredExamplesImportRequest,
  TSV_MEDIA,
  type ScoredExamplesImportBody,
} from './scoredExamplesContract';

const IMPORT_PATH = new RegExp(`^${API_PREFIX}/catalog/questions/[^/]+/scored-examples/?$`);
const importParser = bodyParser({
  enableTypes: ['json', 'text'],
  extendTypes: { text: [TSV_MEDIA] },
  jsonLimit: SCORED_EXAMPLES_BODY_LIMIT,
  textLimit: SCORED_EXAMPLES_BODY_LIMIT,
  encoding: 'utf-8',
});

/**
 * The body parser of an import (TSV as text, or JSON, up to 2 MB; beyond: 413). Installed
 * before the API's general JSON parser, which then leaves the parsed body alone.
 */
export const scoredExamplesBodyParser: Middleware = (ctx, next) =>
  ctx.method === 'POST' && IMPORT_PATH.test(ctx.path) ? importParser(ctx, next) : next();

const INVALID = 'INVALID_SCORED_EXAMPLES';

/** An admin's human-scored examples for an essay question: import (TSV or JSON) and summary. */
export function scoredExamplesRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/catalog' });
  const admin = requireRole('admin');
  const importBody = requestBody<ScoredExamplesImportBody>('ScoredExamplesImportRequest', ScoredExamplesImportRequest);

  async function essayQuestion(question_id: string) {
    await awaitProjection(deps, CATALOG_PROJECTION, question_id);
    return orNotFound(
      catalog.findQuestion(deps.pool, question_id),
      `Question ${question_id} not found`,
      'QUESTION_NOT_FOUND',
    );
  }

  /** The examples of the request, each with the TSV line it came from (JSON: none). */
  function examplesOf(ctx: Context, maxScore: number): { text: string; score: number; line?: number }[] {
    if (ctx.is(TSV_MEDIA)) {
      const content = (ctx.request as { body?: unknown }).body;
      if (typeof content !== 'string') throw new BadRequestError('The TSV body could not be read', undefined, INVALID);
      try {
        const rows = parseScoredExamplesTsv(content, { min: 0, max: maxScore });
        if (rows.length === 0) throw new TsvFormatError(2, 'no examples after the header');
        return rows;
      } catch (err) {
        if (!(err instanceof TsvFormatError)) throw err;
        throw new UnprocessableError(
          `Nothing imported: line ${err.line}: ${err.problem}`,
          { line: err.line, problem: err.problem },
          INVALID,
        );
      }
    }
    if (ctx.is('application/json')) return importBody(ctx).examples;
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Send the examples as ${TSV_MEDIA} (header "text<TAB>score") or as application/json {examples: [{text, score}]}`,
      415,
    );
  }

  router.post('/questions/:question_id/scored-examples', admin, async (ctx) => {
    const actor = actorOf(ctx);
    const question_id = idParam(ctx, 'question_id');
    const question = await essayQuestion(question_id);
    if (question.question_type !== 'essay') {
      throw new UnprocessableError(
        `Question ${question_id} is a ${question.question_type} question; scored examples are for essay questions.`,
        { question_id },
        INVALID,
      );
    }
    const examples = examplesOf(ctx, question.weight);
    const key = idempotencyKeyOf(ctx);
    const scope = `scored-examples:${question_id}`;
    const import_id = key ? idFromKey(actor.id, scope, key, 'aggregate') : randomUUID();
    const result = await dispatch(deps.bus, ctx, actor, 'catalog', {
      type: 'ImportScoredExamples',
      aggregate_id: question_id,
      ...(key ? { command_id: idFromKey(actor.id, scope, key, 'command') } : {}),
      data: { question_id, import_id, examples: examples.map(({ text, score }) => ({ text, score })) },
    }).catch((err: unknown) => {
      throw withLine(err, examples);
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    await awaitProjection(deps, ESSAY_EXAMPLES_PROJECTION, question_id);
    ctx.status = 201;
    ctx.body = { question_id, import_id, imported: examples.length };
  });

  router.get('/questions/:question_id/scored-examples', admin, async (ctx) => {
    const question_id = idParam(ctx, 'question_id');
    const question = await essayQuestion(question_id);
    await awaitProjection(deps, ESSAY_EXAMPLES_PROJECTION, question_id);
    ctx.body = { question_id, max_score: question.weight, ...(await scoredExamplesSummary(deps.pool, question_id)) };
  });

  return router;
}

/** The domain names a bad example by its index; a TSV import names its line instead. */
function withLine(err: unknown, examples: { line?: number }[]): unknown {
  if (!(err instanceof CommandRejectedError) || err.code !== INVALID) return err;
  const details = (err.details ?? {}) as { index?: unknown };
  const line = typeof details.index === 'number' ? examples[details.index]?.line : undefined;
  if (line === undefined) return err;
  return new UnprocessableError(`Nothing imported: line ${line}: ${err.message}`, { ...details, line }, INVALID);
}
