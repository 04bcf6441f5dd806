import type { Middleware } from 'koa';
import type { Metrics } from '../../platform/metrics';
import type { RouteTable } from '../methodNotAllowed';

/**
 * Counts and times every request by method, ROUTE TEMPLATE and status. The route is the
 * template of the route that answered (`/api/v1/assessments/:assessment_id`), never the raw
 * path, so ids cannot blow up the label set; a request no route serves (404 or 405) is
 * `route="unmatched"`. Methods outside the standard set are counted as `OTHER`. Mount it first,
 * so it sees the status the error middleware settled on.
 */
export function httpMetrics(metrics: Metrics, table: RouteTable): Middleware {
  return async (ctx, next) => {
    const stop = metrics.httpRequestDuration.startTimer();
    try {
      await next();
    } finally {
      const method = STANDARD_METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      const labels = {
        method,
        route: table.template(ctx.method, ctx.path) ?? 'unmatched',
        status_code: String(ctx.status),
      };
      stop(labels);
      metrics.httpRequests.inc(labels);
    }
  };
}

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT']);
