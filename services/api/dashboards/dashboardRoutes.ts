import Router from '@koa/router';
import type { Context } from 'koa';
import { isUuid } from '../../../domain/shared/ids';
import * as dashboards from '../../../projections/dashboards/queries';
import type { AssessmentStatus, DateField } from '../../../projections/dashboards/queries';
import { BadRequestError } from '../../platform/errors';
import { requireRole } from '../auth/access';
import type { ApiDeps } from '../deps';

/** The longest window GET /dashboards/metrics summarises (its hourly buckets stay ≤ 744). */
export const MAX_METRICS_WINDOW_MS = 31 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

const invalid = (message: string) => new BadRequestError(message, undefined, 'INVALID_QUERY');

/** A single query value: absent (undefined) or one string; a repeated parameter is refused. */
function single(ctx: Context, name: string): string | undefined {
  const raw = ctx.query[name];
  if (Array.isArray(raw)) throw invalid(`${name} may be given once`);
  return raw === undefined || raw === '' ? undefined : raw;
}

function uuidParam(ctx: Context, name: string): string | undefined {
  const raw = single(ctx, name);
  if (raw === undefined) return undefined;
  if (!isUuid(raw)) throw invalid(`${name} must be a UUID`);
  return raw.toLowerCase();
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/i;

function dateParam(ctx: Context, name: string): Date | undefined {
  const raw = single(ctx, name);
  if (raw === undefined) return undefined;
  const ms = RFC3339.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw invalid(`${name} must be an RFC 3339 date-time, e.g. 2025-03-01T09:00:00Z`);
  return new Date(ms);
}

function limitParam(ctx: Context, fallback: number): number {
  const raw = single(ctx, 'limit');
  if (raw === undefined) return fallback;
  const n = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 100)) throw invalid('limit must be a whole number from 1 to 100');
  return n;
}

function enumParam<T extends string>(ctx: Context, name: string, values: readonly T[]): T | undefined {
  const raw = single(ctx, name);
  if (raw === undefined) return undefined;
  if (!values.includes(raw as T)) throw invalid(`${name} must be one of ${values.join(', ')}`);
  return raw as T;
}

function window(ctx: Context): { from?: Date; to?: Date } {
  const from = dateParam(ctx, 'from');
  const to = dateParam(ctx, 'to');
  if (from && to && from >= to) throw invalid('from must be before to');
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** Dashboards for advisors and admins: assessments, operations metrics, recommendation feedback. */
export function dashboardRoutes(deps: Pick<ApiDeps, 'pool' | 'config'>): Router {
  const router = new Router({ prefix: '/dashboards' });
  router.use(requireRole('advisor', 'admin'));

  router.get('/assessments', async (ctx) => {
    const status = enumParam<AssessmentStatus>(ctx, 'status', dashboards.ASSESSMENT_STATUSES);
    const degradedRaw = enumParam(ctx, 'degraded', ['true', 'false'] as const);
    const dateField = enumParam<DateField>(ctx, 'date_field', ['started_at', 'submitted_at']) ?? 'started_at';
    const roleId = uuidParam(ctx, 'role_id');
    const userId = uuidParam(ctx, 'user_id');
    const limit = limitParam(ctx, 25);
    const rawCursor = single(ctx, 'cursor');
    const cursor = rawCursor === undefined ? undefined : dashboards.decodeCursor(rawCursor);
    if (rawCursor !== undefined && (!cursor || cursor.field !== dateField)) {
      throw new BadRequestError(
        'cursor is not a next_cursor of this list (or was made for another date_field)',
        undefined,
        'INVALID_CURSOR',
      );
    }
    const page = await dashboards.listAssessments(
      deps.pool,
      {
        dateField,
        ...window(ctx),
        ...(status ? { status } : {}),
        ...(roleId ? { roleId } : {}),
        ...(userId ? { userId } : {}),
        ...(degradedRaw ? { degraded: degradedRaw === 'true' } : {}),
      },
      limit,
      cursor,
    );
    ctx.body = {
      items: page.items,
      limit,
      next_cursor: page.next_cursor ? dashboards.encodeCursor(page.next_cursor) : null,
    };
  });

  router.get('/metrics', async (ctx) => {
    const given = window(ctx);
    const to = given.to ?? (given.from ? new Date(given.from.getTime() + DAY_MS) : new Date());
    const from = given.from ?? new Date(to.getTime() - DAY_MS);
    if (to.getTime() - from.getTime() > MAX_METRICS_WINDOW_MS) throw invalid('The window may span 31 days at most');
    ctx.body = await dashboards.metricsSummary(deps.pool, from, to, deps.config.KAFKA_TOPIC_PREFIX);
  });

  router.get('/feedback', async (ctx) => {
    const credentialId = uuidParam(ctx, 'credential_id');
    const items = await dashboards.feedbackSummary(
      deps.pool,
      { ...window(ctx), ...(credentialId ? { credentialId } : {}) },
      limitParam(ctx, 50),
    );
    ctx.body = { items };
  });

  return router;
}
