import type { Pool } from 'pg';
import { isUuid } from '../../domain/shared/ids';
import type { Config } from '../../services/platform/config';

// Queries over the `webhook_subscriptions` read model (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export interface WebhookSubscriptionView {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: boolean;
  ordered: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  /** The last event applied (the stream's version). */
  version: number;
}

/**
 * The scope of this system's subscriptions: its topic prefix. Systems sharing a database (test
 * systems, tenants) each see only the subscriptions their own events made; every query takes it.
 */
export function webhookScope(config: Pick<Config, 'KAFKA_TOPIC_PREFIX'>): string {
  return config.KAFKA_TOPIC_PREFIX;
}

interface Row extends Omit<WebhookSubscriptionView, 'created_at' | 'updated_at' | 'version'> {
  created_at: Date;
  updated_at: Date;
  version: string;
}

const COLUMNS = 'id, url, event_types, description, enabled, ordered, disabled_reason, created_at, updated_at, version';

function toView(row: Row): WebhookSubscriptionView {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: Number(row.version),
  };
}

/** A subscription of this scope, enabled or not; undefined when unknown or deleted. */
export async function webhookSubscriptionById(
  db: Db,
  id: string,
  scope: string,
): Promise<WebhookSubscriptionView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND scope = $2 AND deleted_at IS NULL`,
    [id, scope],
  );
  return rows[0] && toView(rows[0]);
}

/**
 * The subscriptions of this scope that asked for `eventType`, enabled or not (a disabled one
 * keeps its deliveries for when it is enabled again), oldest first; never deleted ones.
 */
export async function webhookSubscriptionsFor(
  db: Db,
  eventType: string,
  scope: string,
): Promise<WebhookSubscriptionView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions
      WHERE event_types @> ARRAY[$1]::text[] AND scope = $2 AND deleted_at IS NULL
      ORDER BY created_at, id`,
    [eventType, scope],
  );
  return rows.map(toView);
}

/** Every subscription of this scope but deleted ones, oldest first. */
export async function listWebhookSubscriptions(db: Db, scope: string): Promise<WebhookSubscriptionView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE scope = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
    [scope],
  );
  return rows.map(toView);
}

/**
 * Until when the secret that `secretId` replaced keeps signing, as the rotation to `secretId`
 * recorded it; undefined when that overlap is already over (or there was no such rotation).
 */
export async function previousSecretValidUntil(
  db: Db,
  id: string,
  secretId: string,
  scope: string,
): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ valid_until: string }>(
    `SELECT e->>'valid_until' AS valid_until
       FROM webhook_subscriptions, jsonb_array_elements(previous_secrets) AS e
      WHERE id = $1 AND scope = $2 AND deleted_at IS NULL AND e->>'replaced_by' = $3`,
    [id, scope, secretId.toLowerCase()],
  );
  return rows[0]?.valid_until;
}
