import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import jwt from 'koa-jwt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../platform/config';
import { withLogContext } from '../platform/logger';
import { asyncApiDocument } from '../publisher/asyncapi';
import { enableDefaultMetrics, processMetrics, watchJobBacklog, type Metrics } from '../platform/metrics';
import { jobBacklog } from '../processors/runtime/jobs';
import { assessmentRoutes } from './assessments/assessmentRoutes';
import { essayRoutes } from './assessments/essayRoutes';
import { authRoutes } from './auth/authRoutes';
import { corsFor, securityHeaders } from './browserAccess';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, signingKey } from './auth/tokens';
import { catalogRoutes } from './catalog/catalogRoutes';
import { documentRoutes, documentsBodyParser } from './catalog/documentRoutes';
import { scoredExamplesBodyParser, scoredExamplesRoutes } from './catalog/scoredExamplesRoutes';
import { commandRoutes } from './commands/commandRoutes';
import { dashboardRoutes } from './dashboards/dashboardRoutes';
import type { ApiDeps } from './deps';
import { errorMiddleware } from './errorMiddleware';
import { methodNotAllowed, routeTable } from './methodNotAllowed';
import { httpMetrics } from './metrics/httpMetrics';
import { metricsRoute } from './metrics/metricsRoute';
import { API_PREFIX, openApiDocument } from './openapi/document';
import { rateLimit } from './rateLimit';
import { recommendationRoutes } from './recommendations/recommendationRoutes';
import { webhookDeliveryRoutes } from './webhooks/deliveryRoutes';
import { projectionRoutes } from './projections/projectionRoutes';
import { webhookSubscriptionRoutes } from './webhooks/subscriptionRoutes';

const SWAGGER_DIR = join(require.resolve('swagger-ui-dist/package.json'), '..');
const DOCS_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>microcred API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><p style="font-family:sans-serif;margin:1em 2em">Contracts: the HTTP API's
<a href="/openapi.json">OpenAPI document (/openapi.json)</a>, rendered below; for partners, the public
event topic's <a href="/asyncapi.json">AsyncAPI 3.0 document (/asyncapi.json)</a>.</p>
<div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-initializer.js"></script></body></html>`;
// A file rather than an inline script, so the CSP needs no 'unsafe-inline' for scripts; no
// validator badge (it would call validator.swagger.io).
const DOCS_INITIALIZER = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', validatorUrl: null });\n`;

/**
 * Builds the Koa application; every dependency arrives as a parameter. `metrics` defaults to the
 * process's registry (one per process, see `platform/metrics.ts`); a spec may pass its own.
 */
export function createApp(deps: Pick<ApiDeps, 'logger' | 'readiness'> & Partial<ApiDeps> & { metrics?: Metrics }): Koa {
  const app = new Koa();
  app.proxy = true;
  const metrics = deps.metrics ?? processMetrics();
  enableDefaultMetrics(metrics);
  const open = new Router();
  const api = new Router({ prefix: API_PREFIX });
  const table = routeTable([open, api]);

  app.use(httpMetrics(metrics, table));

  // Correlation id: taken from the caller when well-formed, otherwise minted; echoed back.
  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-correlation-id');
    const correlationId = /^[A-Za-z0-9._-]{8,128}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.correlationId = correlationId;
    ctx.set('x-correlation-id', correlationId);
    const started = process.hrtime.bigint();
    await withLogContext({ correlation_id: correlationId }, async () => {
      try {
        await next();
      } finally {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        deps.logger.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
      }
    });
  });
  // Before the error middleware and the router, so error answers carry them too, and a
  // listed origin's preflight is answered here (an unlisted one's falls through to `Allow`).
  app.use(securityHeaders());
  app.use(corsFor({ CORS_ORIGINS: deps.config?.CORS_ORIGINS ?? [] }));
  app.use(errorMiddleware(deps.logger));
  app.use(methodNotAllowed(table));

  open.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  open.get('/readyz', async (ctx) => {
    const { ready, dependencies } = await deps.readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', dependencies };
  });
  // Unauthenticated on purpose, like the probes: Prometheus scrapes without a token.
  open.get('/metrics', metricsRoute(metrics));
  open.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  // The public topic's contract, for partners (unauthenticated, like the OpenAPI document).
  const asyncApi = asyncApiDocument(deps.config ?? loadConfig({}));
  open.get('/asyncapi.json', (ctx) => {
    ctx.body = asyncApi;
  });
  open.get('/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = DOCS_PAGE;
  });
  open.get('/docs/:asset', (ctx) => {
    const asset = (ctx.params as { asset: string }).asset;
    if (!['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-initializer.js'].includes(asset)) return;
    ctx.type = asset.endsWith('.css') ? 'css' : 'js';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = asset === 'swagger-initializer.js' ? DOCS_INITIALIZER : readFileSync(join(SWAGGER_DIR, asset));
  });
  app.use(open.routes());

  if (deps.config && deps.bus && deps.pool && deps.replies) {
    const full = deps as ApiDeps;
    watchJobBacklog(metrics, () => jobBacklog(full.pool, full.config.KAFKA_TOPIC_PREFIX));
    if (!full.config.JWT_SECRET) throw new Error('JWT_SECRET is required to serve the API (at least 32 characters)');
    // An import of scored examples may be larger, and a TSV file; every other body is JSON up to 256 kB.
    api.use(scoredExamplesBodyParser);
    // A knowledge document's JSON may be up to 4 MB (200,000 characters of any script).
    api.use(documentsBodyParser);
    api.use(bodyParser({ enableTypes: ['json'], jsonLimit: '256kb', encoding: 'utf-8' }));
    api.use(
      jwt({
        // koa-jwt hands the secret to jsonwebtoken, which takes a KeyObject (its types say Buffer).
        secret: signingKey(full.config.JWT_SECRET) as unknown as Buffer,
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        passthrough: true,
      }),
    );
    api.use(rateLimit(full.config.RATE_LIMIT_PER_MINUTE));
    const publicPaths = new Set([`${API_PREFIX}/auth/register`, `${API_PREFIX}/auth/token`]);
    api.use(async (ctx, next) => {
      // koa-jwt runs in passthrough so the rate limiter sees who is calling; refuse here.
      if (!publicPaths.has(ctx.path) && !ctx.state.user) {
        ctx.throw(401, ctx.state.jwtOriginalError ? 'Invalid or expired access token' : 'Authentication required');
      }
      await next();
    });
    for (const routes of [
      authRoutes(full),
      catalogRoutes(full),
      scoredExamplesRoutes(full),
      documentRoutes(full),
      assessmentRoutes(full),
      essayRoutes(full),
      recommendationRoutes(full),
      commandRoutes(full),
      dashboardRoutes(full),
      webhookSubscriptionRoutes(full),
      webhookDeliveryRoutes(full),
      projectionRoutes(full),
    ]) {
      api.use(routes.routes());
    }
    app.use(api.routes());
  }
  return app;
}
