import Router from '@koa/router';
import type { Context } from 'koa';
import { BadRequestError } from '../../platform/errors';
import { decodeCursor, DELIVERY_STATUSES, encodeCursor, type DeliveryStatus } from '../../webhooks/delivery/deliveries';
import { DeliveryAdmin, type DeliveryDetails } from '../../webhooks/delivery/deliveryAdmin';
import { requireRole } from '../auth/access';
import type { ApiDeps } from '../deps';
import { idParam, intParam } from '../http';

const invalid = (message: string) => new BadRequestError(message, undefined, 'INVALID_QUERY');

function single(ctx: Context, name: string): string | undefined {
  const raw = ctx.query[name];
  if (Array.isArray(raw)) throw invalid(`${name} may be given once`);
  return raw === undefined || raw === '' ? undefined : raw;
}

/** A delivery as the API shows it (the contract's WebhookDelivery). */
function present(d: DeliveryDetails) {
  return { ...d, payload: d.payload ?? {} };
}

/**
 * Webhook deliveries (admins): `GET /admin/webhooks/{id}/deliveries?status=&cursor=&limit=` with
 * every attempt, one delivery, redelivering one or every dead letter, and a test event. The
 * subscriptions themselves are `subscriptionRoutes.ts`.
 */
export function webhookDeliveryRoutes(deps: Pick<ApiDeps, 'pool' | 'config'>): Router {
  const router = new Router({ prefix: '/admin/webhooks' });
  router.use(requireRole('admin'));
  const admin = new DeliveryAdmin(deps.pool, deps.config.KAFKA_TOPIC_PREFIX);

  router.get('/:id/deliveries', async (ctx) => {
    const id = idParam(ctx, 'id');
    const status = single(ctx, 'status');
    if (status !== undefined && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
      throw invalid(`status must be one of ${DELIVERY_STATUSES.join(', ')}`);
    }
    const limit = intParam(single(ctx, 'limit'), 25, 1, 100, 'limit');
    const rawCursor = single(ctx, 'cursor');
    const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor);
    if (rawCursor !== undefined && !cursor) {
      throw new BadRequestError('cursor is not a next_cursor of this list', undefined, 'INVALID_CURSOR');
    }
    const page = await admin.list(id, {
      limit,
      ...(status ? { status: status as DeliveryStatus } : {}),
      ...(cursor ? { cursor } : {}),
    });
    ctx.body = {
      items: page.items.map(present),
      next_cursor: page.next_cursor ? encodeCursor(page.next_cursor) : null,
    };
  });

  router.get('/:id/deliveries/:delivery_id', async (ctx) => {
    ctx.body = present(await admin.get(idParam(ctx, 'id'), idParam(ctx, 'delivery_id')));
  });

  router.post('/:id/deliveries/:delivery_id/redeliver', async (ctx) => {
    ctx.status = 202;
    ctx.body = present(await admin.redeliver(idParam(ctx, 'id'), idParam(ctx, 'delivery_id')));
  });

  router.post('/:id/redeliver-dead-letters', async (ctx) => {
    ctx.status = 202;
    ctx.body = await admin.redeliverDeadLetters(idParam(ctx, 'id'));
  });

  router.post('/:id/test', async (ctx) => {
    ctx.status = 202;
    ctx.body = present(await admin.sendTest(idParam(ctx, 'id')));
  });

  return router;
}
