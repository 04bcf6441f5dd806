import Router from '@koa/router';
import type { RebuildRecord } from '../../../projections/runtime/rebuild/registry';
import { API_PREFIX } from '../openapi/document';
import { actorOf, requireRole } from '../auth/access';
import type { ApiDeps } from '../deps';

/** A rebuild as the contract shows it (no shadow schema or process names: internals). */
export function presentRebuild(r: RebuildRecord) {
  return {
    id: r.id,
    projections: r.projections,
    status: r.status,
    phase: r.phase,
    events_applied: r.events_applied,
    offsets_done: r.offsets_done,
    offsets_total: r.offsets_total,
    requested_by: r.requested_by,
    error: r.error,
    warnings: r.warnings,
    started_at: r.started_at,
    heartbeat_at: r.heartbeat_at,
    finished_at: r.finished_at,
    status_url: `${API_PREFIX}/admin/projections/rebuilds/${r.id}`,
  };
}

/**
 * The projections' operations, admin only: their lag per partition (as `microcred projections
 * status`), and rebuilds (as `microcred projections rebuild`), which run in this process.
 */
export function projectionRoutes(deps: Pick<ApiDeps, 'projections'>): Router {
  const router = new Router({ prefix: '/admin/projections' });
  router.use(requireRole('admin'));
  const { rebuilds } = deps.projections;

  router.get('/', async (ctx) => {
    const [projections, latest] = await Promise.all([deps.projections.status(), rebuilds.list()]);
    ctx.body = { projections, rebuilds: latest.map(presentRebuild) };
  });

  router.post('/:name/rebuild', async (ctx) => {
    const record = await rebuilds.start(String(ctx.params.name), `api:${actorOf(ctx).id}`);
    ctx.status = 202;
    ctx.set('Location', presentRebuild(record).status_url);
    ctx.body = presentRebuild(record);
  });

  router.get('/rebuilds/:id', async (ctx) => {
    ctx.body = presentRebuild(await rebuilds.get(String(ctx.params.id)));
  });

  router.delete('/rebuilds/:id', async (ctx) => {
    const id = String(ctx.params.id);
    await rebuilds.get(id);
    ctx.body = presentRebuild(await rebuilds.cancel(id));
  });

  router.post('/rebuilds/:id/resume', async (ctx) => {
    const record = await rebuilds.resume(String(ctx.params.id), `api:${actorOf(ctx).id}`);
    ctx.status = 202;
    ctx.set('Location', presentRebuild(record).status_url);
    ctx.body = presentRebuild(record);
  });

  return router;
}
