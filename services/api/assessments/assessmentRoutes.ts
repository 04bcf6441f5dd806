import Router from '@koa/router';
import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import { publicRubric } from '../../../domain/assessment/publicRubric';
import type { Rubric } from '../../../domain/assessment/rubric';
import * as assessments from '../../../projections/assessments/queries';
import { historyOf } from '../../../projections/audit/queries';
import { AUDIT_PROJECTION } from '../../../projections/audit/projection';
import { ASSESSMENTS_PROJECTION } from '../../../projections/assessments/projection';
import * as catalog from '../../../projections/catalog/queries';
import type { CommandReply } from '../../messaging/envelopes';
import { BadRequestError, ConflictError } from '../../platform/errors';
import type { AssessmentAt } from '../../replay/assessmentReplay';
import { parseInstant } from '../../replay/instant';
import { actorOf, requireRole } from '../auth/access';
import { dispatch, respondPending } from '../commands/dispatch';
import { idempotencyKeyOf, idFromKey } from '../commands/idempotency';
import { awaitProjection, type ApiDeps } from '../deps';
import { idParam, orNotFound } from '../http';
import { validateBody } from '../openapi/contract';
import { scoringProgress } from './essayRoutes';
import { visibleAssessmentOf } from './visibleAssessment';

interface SnapshotQuestion {
  question_id: string;
  version: string;
  type: 'multiple_choice' | 'essay' | 'profile';
  prompt: string;
  choices: string[] | null;
  rubric: Rubric;
  weight: number;
  required: boolean;
}

/** The contract's QuestionSnapshot, with the answer key left out of the rubric. */
function presentQuestion(q: SnapshotQuestion) {
  return {
    question_id: q.question_id,
    type: q.type,
    prompt: q.prompt,
    choices: q.choices,
    rubric: publicRubric(q.rubric),
    version: q.version,
    weight: q.weight,
    required: q.required,
  };
}

/** `?as_of=`: an RFC 3339 instant not in the future, or 400. */
function asOfParam(ctx: Context): Date | undefined {
  const raw = ctx.query.as_of;
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? undefined : raw;
  const asOf = text === undefined ? undefined : parseInstant(text);
  if (!asOf) {
    throw new BadRequestError(
      `as_of must be one RFC 3339 instant such as 2026-03-01T12:00:00Z, not ${JSON.stringify(raw)}`,
      undefined,
      'INVALID_AS_OF',
    );
  }
  if (asOf.getTime() > Date.now()) {
    throw new BadRequestError(`as_of ${asOf.toISOString()} is in the future`, undefined, 'AS_OF_IN_FUTURE');
  }
  return asOf;
}

/** The contract's AssessmentStateAt: the replayed state, its rubrics without answer keys. */
function presentStateAt({ events, state }: AssessmentAt) {
  const version = events.length > 0 ? events[events.length - 1]!.version : 0;
  if (state.status === 'not_started') return { status: state.status, version };
  return {
    status: state.status,
    version,
    user_id: state.user_id,
    role_id: state.role_id,
    role_name: state.role_name,
    started_at: state.started_at,
    expires_at: state.expires_at,
    ...(state.status === 'awaiting_async' || state.status === 'completed' || state.status === 'failed'
      ? { submitted_at: state.submitted_at }
      : {}),
    ...(state.status === 'awaiting_async' || state.status === 'completed' ? { pending: state.pending } : {}),
    ...(state.status === 'completed' ? { completed_at: state.completed_at } : {}),
    ...(state.status === 'failed' ? { failed_at: state.failed_at, reason: state.reason } : {}),
    degraded: state.degraded,
    questions: state.questions.map(presentQuestion),
    responses: Object.entries(state.responses).map(([question_id, r]) => ({ question_id, ...r })),
    rule_scores: Object.entries(state.rule_scores).map(([question_id, s]) => ({ question_id, ...s })),
    essay_scores: Object.entries(state.essay_scores).map(([question_id, s]) => ({
      question_id,
      score: s.score,
      max_score: s.max_score,
      revision: s.revision,
      provider: s.provider ?? null,
      overridden: s.overridden ?? false,
    })),
    essay_failures: Object.entries(state.essay_failures ?? {}).map(([question_id, f]) => ({ question_id, ...f })),
  };
}

function statusAfter(reply: CommandReply): 'in_progress' | 'awaiting_async' {
  return reply.events.some((e) => e.type === 'AssessmentSubmitted') ? 'awaiting_async' : 'in_progress';
}

export function assessmentRoutes(deps: ApiDeps): Router {
  const router = new Router({ prefix: '/assessments' });

  const visibleAssessment = visibleAssessmentOf(deps);

  router.post('/start', requireRole('student'), validateBody('AssessmentStartRequest'), async (ctx) => {
    const actor = actorOf(ctx);
    const body = ctx.request.body as { role_id: string; metadata?: Record<string, unknown> };
    const key = idempotencyKeyOf(ctx);
    const assessment_id = key ? idFromKey(actor.id, 'start', key, 'aggregate') : randomUUID();
    const role = await orNotFound(
      catalog.findRole(deps.pool, body.role_id),
      `Role ${body.role_id} not found`,
      'ROLE_NOT_FOUND',
    );
    if (!role.active) throw new ConflictError(`Role ${role.name} is retired`, 'ROLE_RETIRED');
    const questions: SnapshotQuestion[] = (await catalog.activeQuestionsOfRole(deps.pool, role.role_id)).map((q) => ({
      question_id: q.question_id,
      version: q.version,
      type: q.question_type,
      prompt: q.prompt,
      choices: q.choices,
      rubric: q.rubric as Rubric,
      weight: Number(q.weight),
      required: q.required,
    }));
    const expires_at = new Date(Date.now() + deps.config.ASSESSMENT_DURATION_SECONDS * 1000).toISOString();
    const result = await dispatch(deps.bus, ctx, actor, 'assessment', {
      type: 'StartAssessment',
      aggregate_id: assessment_id,
      ...(key ? { command_id: idFromKey(actor.id, 'start', key, 'command') } : {}),
      data: {
        assessment_id,
        user_id: actor.id,
        role_id: role.role_id,
        role_name: role.name,
        questions,
        expires_at,
        metadata: body.metadata ?? null,
      },
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    ctx.status = 201;
    if (result.reply.outcome === 'accepted') {
      ctx.body = { assessment_id, status: 'in_progress', expires_at, questions: questions.map(presentQuestion) };
      return;
    }
    // A retry with the same Idempotency-Key: answer with what the first request created.
    await awaitProjection(deps, ASSESSMENTS_PROJECTION, assessment_id);
    const first = await orNotFound(
      assessments.findAssessment(deps.pool, assessment_id),
      `Assessment ${assessment_id} not found`,
      'ASSESSMENT_NOT_FOUND',
    );
    const snapshot = await assessments.questionSnapshots(deps.pool, assessment_id);
    ctx.body = {
      assessment_id,
      status: first.status,
      expires_at: first.expires_at,
      questions: snapshot.map((q) => presentQuestion(q as SnapshotQuestion)),
    };
  });

  router.post('/:assessment_id/responses', validateBody('AssessmentResponseBatch'), async (ctx) => {
    const actor = actorOf(ctx);
    const assessment_id = idParam(ctx, 'assessment_id');
    const body = ctx.request.body as {
      responses: { question_id: string; answer: unknown; submitted_at?: string }[];
      completed?: boolean;
    };
    const key = idempotencyKeyOf(ctx);
    const result = await dispatch(deps.bus, ctx, actor, 'assessment', {
      type: 'RecordResponses',
      aggregate_id: assessment_id,
      ...(key ? { command_id: idFromKey(actor.id, `responses:${assessment_id}`, key, 'command') } : {}),
      data: {
        assessment_id,
        responses: body.responses.map((r) => ({
          question_id: r.question_id,
          answer: r.answer,
          submitted_at: r.submitted_at ?? null,
        })),
        complete: body.completed ?? false,
      },
    });
    if (result.status === 'pending') return respondPending(ctx, result.command_id);
    const status = statusAfter(result.reply);
    ctx.status = 202;
    ctx.body = {
      assessment_id,
      status,
      async_job_enqueued: status === 'awaiting_async',
      message:
        status === 'awaiting_async'
          ? 'Submitted. Essay scoring and recommendations are being prepared.'
          : `Recorded ${body.responses.length} response(s).`,
    };
  });

  router.get('/:assessment_id', async (ctx) => {
    const found = await visibleAssessment(ctx, actorOf(ctx));
    ctx.body = {
      assessment_id: found.assessment_id,
      status: found.status,
      progress: { answered: found.answered, total: found.total },
      degraded: found.degraded,
      last_updated_at: found.last_updated_at,
      scoring: await scoringProgress(deps, found),
    };
  });

  router.get('/:assessment_id/history', async (ctx) => {
    const asOf = asOfParam(ctx);
    const found = await visibleAssessment(ctx, actorOf(ctx));
    await awaitProjection(deps, AUDIT_PROJECTION, found.assessment_id);
    const events = await historyOf(deps.pool, 'assessment', found.assessment_id);
    if (!asOf) {
      ctx.body = { assessment_id: found.assessment_id, events };
      return;
    }
    // The state then comes from the event log, folded by the domain's evolve (not the read model).
    const replayed = await deps.replay(found.assessment_id, asOf);
    ctx.body = {
      assessment_id: found.assessment_id,
      as_of: asOf.toISOString(),
      events: events.filter((e) => Date.parse(e.occurred_at) <= asOf.getTime()),
      state: presentStateAt(replayed),
    };
  });

  return router;
}
