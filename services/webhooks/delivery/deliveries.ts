import type { Pool, PoolClient } from 'pg';
import { jobIdOf } from '../../processors/runtime/jobs';

/**
 * Webhook deliveries as the processor runtime keeps them: one `async_jobs` row per (subscription,
 * public event), of job type `webhook_delivery`, in the subscription's lane. `webhook_events`
 * (migration 0012) is the delivery-shaped view of those rows; attempts have a table of their own.
 */

export const DELIVERY_JOB_TYPE = 'webhook_delivery';

/** The actor of the commands the deliverer sends (DisableWebhookSubscription on 410 Gone). */
export const WEBHOOKS_ACTOR = { id: 'system:webhooks', role: 'system' } as const;

/** The type of the event `POST /admin/webhooks/{id}/test` sends. */
export const TEST_EVENT_TYPE = 'webhook.test';

export interface DeliveryPayload {
  subscription_id: string;
  /** `webhook-id`: the public event's id (the same for every attempt and every subscription). */
  webhook_id: string;
  event_type: string;
  /** When the event happened (the public event's `time`): deliveries' latency is measured from it. */
  event_time: string;
  /** The exact JSON text every attempt sends (and signs). */
  body: string;
}

export const deliveryKey = (subscriptionId: string, webhookId: string): string => `${subscriptionId}/${webhookId}`;
export const deliveryIdOf = (scope: string, subscriptionId: string, webhookId: string): string =>
  jobIdOf(scope, deliveryKey(subscriptionId, webhookId));

export type DeliveryStatus =
  'pending' | 'delivering' | 'retrying' | 'parked' | 'delivered' | 'dead_lettered' | 'cancelled';

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = [
  'pending',
  'delivering',
  'retrying',
  'parked',
  'delivered',
  'dead_lettered',
  'cancelled',
];

export interface DeliveryAttempt {
  attempt_number: number;
  started_at: string;
  duration_ms: number | null;
  response_code: number | null;
  /** The first kilobyte of the response body. */
  response_body: string | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  subscription_id: string;
  webhook_id: string;
  event_type: string;
  assessment_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  response_code: number | null;
  last_attempt: string | null;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  completed_at: string | null;
  /** The JSON body delivered (the public event). */
  payload: unknown;
}

type Db = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

interface DeliveryRow extends Omit<Delivery, 'last_attempt' | 'next_attempt_at' | 'created_at' | 'completed_at'> {
  last_attempt: Date | null;
  next_attempt_at: Date | null;
  created_at: Date;
  completed_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toDelivery(row: DeliveryRow): Delivery {
  return {
    ...row,
    last_attempt: iso(row.last_attempt),
    next_attempt_at: iso(row.next_attempt_at),
    created_at: row.created_at.toISOString(),
    completed_at: iso(row.completed_at),
  };
}

const COLUMNS = `id, subscription_id, webhook_id, event_type, assessment_id, status, attempts, response_code,
  last_attempt, next_attempt_at, last_error, created_at, completed_at, payload`;

/** Where a page of deliveries ends: the next page starts after it (newest first). */
export interface DeliveryCursor {
  created_at: string;
  id: string;
}

export const encodeCursor = (c: DeliveryCursor): string =>
  Buffer.from(`${c.created_at}|${c.id}`, 'utf8').toString('base64url');

export function decodeCursor(text: string): DeliveryCursor | undefined {
  const [createdAt, id, extra] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !createdAt || !id || Number.isNaN(Date.parse(createdAt))) return undefined;
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { created_at: createdAt, id };
}

/** A subscription's deliveries, newest first, optionally of one status; `limit` + 1 is read to know if more follow. */
export async function listDeliveries(
  db: Db,
  scope: string,
  subscriptionId: string,
  filter: { status?: DeliveryStatus; cursor?: DeliveryCursor; limit: number },
): Promise<{ items: Delivery[]; next_cursor: DeliveryCursor | null }> {
  // The cursor keeps the microseconds (a JavaScript Date would drop them, and skip rows).
  const { rows } = await db.query<DeliveryRow & { cursor_at: string }>(
    `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at
     FROM webhook_events
     WHERE scope = $1 AND subscription_id = $2 AND ($3::text IS NULL OR status = $3)
       AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $6`,
    [
      scope,
      subscriptionId,
      filter.status ?? null,
      filter.cursor?.created_at ?? null,
      filter.cursor?.id ?? null,
      filter.limit + 1,
    ],
  );
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursor_at: _cursor, ...row }) => toDelivery(row)),
    next_cursor: rows.length > filter.limit && last ? { created_at: last.cursor_at, id: last.id } : null,
  };
}

export async function findDelivery(
  db: Db,
  scope: string,
  subscriptionId: string,
  deliveryId: string,
): Promise<Delivery | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM webhook_events WHERE scope = $1 AND subscription_id = $2 AND id = $3`,
    [scope, subscriptionId, deliveryId],
  );
  return rows[0] && toDelivery(rows[0]);
}

/** The attempts of deliveries, oldest first, by delivery id. */
export async function attemptsOf(db: Db, deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttempt[]>> {
  const byDelivery = new Map<string, DeliveryAttempt[]>(deliveryIds.map((id) => [id, []]));
  if (deliveryIds.length === 0) return byDelivery;
  const { rows } = await db.query<DeliveryAttempt & { delivery_id: string; started_at: Date }>(
    `SELECT delivery_id, attempt_number, started_at, duration_ms, response_code, response_body, error
     FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt_number`,
    [deliveryIds],
  );
  for (const { delivery_id, ...attempt } of rows) {
    byDelivery.get(delivery_id)?.push({ ...attempt, started_at: attempt.started_at.toISOString() });
  }
  return byDelivery;
}

/** The ids of a subscription's dead-lettered deliveries. */
export async function deadLetteredIds(db: Db, scope: string, subscriptionId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM async_jobs WHERE scope = $1 AND job_type = $2 AND lane = $3 AND status IN ('failed', 'rejected')`,
    [scope, DELIVERY_JOB_TYPE, subscriptionId],
  );
  return rows.map((r) => r.id);
}

/** Starts an attempt's record; returns its number (1 for the first, counting across redeliveries). */
export async function startAttempt(
  db: Db,
  attempt: { delivery_id: string; subscription_id: string; webhook_id: string; url: string; started_at: Date },
): Promise<number> {
  const { rows } = await db.query<{ attempt_number: number }>(
    `INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, subscription_id, webhook_id, url, started_at)
     SELECT $1, COALESCE(MAX(attempt_number), 0) + 1, $2, $3, $4, $5
     FROM webhook_delivery_attempts WHERE delivery_id = $1
     RETURNING attempt_number`,
    [attempt.delivery_id, attempt.subscription_id, attempt.webhook_id, attempt.url, attempt.started_at],
  );
  return rows[0]!.attempt_number;
}

/** Completes an attempt's record with its outcome. */
export async function endAttempt(
  db: Db,
  deliveryId: string,
  attemptNumber: number,
  outcome: { duration_ms: number; response_code: number | null; response_body: string | null; error: string | null },
): Promise<void> {
  await db.query(
    `UPDATE webhook_delivery_attempts SET duration_ms = $3, response_code = $4, response_body = $5, error = $6
     WHERE delivery_id = $1 AND attempt_number = $2`,
    [deliveryId, attemptNumber, outcome.duration_ms, outcome.response_code, outcome.response_body, outcome.error],
  );
}
