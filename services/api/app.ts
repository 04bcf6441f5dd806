import Router from '@koa/router';
import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import type { Readiness } from '../platform/health';
import { withLogContext, type Logger } from '../platform/logger';
import { errorMiddleware } from './errorMiddleware';

export interface ApiDependencies {
  logger: Logger;
  readiness: () => Promise<{ ready: boolean; dependencies: Readiness }>;
}

/** Builds the Koa application; every dependency arrives as a parameter. */
export function createApp(deps: ApiDependencies): Koa {
  const app = new Koa();
  app.proxy = true;

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
  app.use(errorMiddleware(deps.logger));

  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const { ready, dependencies } = await deps.readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', dependencies };
  });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
