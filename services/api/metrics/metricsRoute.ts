import type { Middleware } from 'koa';
import type { Metrics } from '../../platform/metrics';

/**
 * `GET /metrics`: the process's registry in the Prometheus text exposition format (0.0.4).
 * Outside /api/v1 and without authentication, like /healthz and /readyz: Prometheus scrapes it
 * without a token. It carries no user data (labels are route templates, contexts, projection and
 * processor names, providers); keep it off the public edge (bind or firewall it to the scraper)
 * where the counts themselves are sensitive.
 */
export function metricsRoute(metrics: Metrics): Middleware {
  return async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await metrics.registry.metrics();
  };
}
