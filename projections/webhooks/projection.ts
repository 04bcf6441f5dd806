import type { PoolClient } from 'pg';
import type {
  WebhookSecretRotated,
  WebhookSubscriptionCreated,
  WebhookSubscriptionDeleted,
  WebhookSubscriptionDisabled,
  WebhookSubscriptionEnabled,
  WebhookSubscriptionEvent,
  WebhookSubscriptionUpdated,
} from '../../domain/identity/webhookSubscription';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Identity events → `webhook_subscriptions`: each partner subscription, what it wants, whether
 * it is enabled, and which signing secrets are valid until when (ids only: the secrets
 * themselves are in `webhook_secrets`, written by services/webhooks/secrets.ts).
 *
 * Rows are scoped by the topic prefix of the events that made them, so systems sharing one
 * database never see each other's subscriptions (a deliverer would otherwise send one system's
 * events to another's partners). Each row changes only for an event newer than the last one
 * applied to it (`version`).
 */
export const WEBHOOK_SUBSCRIPTIONS_PROJECTION = 'webhook_subscriptions';

const EVENTS_TOPIC_SUFFIX = '.identity.events';

/** The scope of the rows an events topic makes: its prefix (`<prefix>.identity.events` → `<prefix>`). */
export function webhookScopeOfTopic(topic: string): string {
  return topic.endsWith(EVENTS_TOPIC_SUFFIX) ? topic.slice(0, -EVENTS_TOPIC_SUFFIX.length) : topic;
}

type Stored<E extends WebhookSubscriptionEvent> = StoredOf<E>;

export const webhookSubscriptionsProjection: Projection = {
  name: WEBHOOK_SUBSCRIPTIONS_PROJECTION,
  topics: (topics) => [topics.identity.events],
  // Not `webhook_secrets`: the API writes those; a replayed deletion deletes them again (a no-op).
  tables: ['webhook_subscriptions'],
  async apply(client, record) {
    const event = record as Stored<WebhookSubscriptionEvent>;
    switch (event.type) {
      case 'WebhookSubscriptionCreated':
        return created(client, event);
      case 'WebhookSubscriptionUpdated':
        return updated(client, event);
      case 'WebhookSubscriptionEnabled':
        return enabled(client, event);
      case 'WebhookSubscriptionDisabled':
        return disabled(client, event);
      case 'WebhookSecretRotated':
        return rotated(client, event);
      case 'WebhookSubscriptionDeleted':
        return deleted(client, event);
      default:
        // Users' events, and types this build does not know (written by a newer version).
        return;
    }
  },
};

async function created(client: PoolClient, event: Stored<WebhookSubscriptionCreated>): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO webhook_subscriptions
       (id, scope, url, event_types, description, enabled, ordered, secret_id, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $8, $9, $9)
     ON CONFLICT (id) DO NOTHING`,
    [
      d.subscription_id,
      webhookScopeOfTopic(event.topic),
      d.url,
      d.event_types,
      d.description,
      d.ordered,
      d.secret_id,
      event.version,
      d.created_at,
    ],
  );
}

async function updated(client: PoolClient, event: Stored<WebhookSubscriptionUpdated>): Promise<void> {
  const d = event.data;
  await client.query(
    `UPDATE webhook_subscriptions
        SET url = $2, event_types = $3, description = $4, ordered = $5, version = $6, updated_at = $7
      WHERE id = $1 AND version < $6`,
    [d.subscription_id, d.url, d.event_types, d.description, d.ordered, event.version, d.updated_at],
  );
}

async function enabled(client: PoolClient, event: Stored<WebhookSubscriptionEnabled>): Promise<void> {
  const d = event.data;
  await client.query(
    `UPDATE webhook_subscriptions SET enabled = TRUE, disabled_reason = NULL, version = $2, updated_at = $3
      WHERE id = $1 AND version < $2`,
    [d.subscription_id, event.version, d.enabled_at],
  );
}

async function disabled(client: PoolClient, event: Stored<WebhookSubscriptionDisabled>): Promise<void> {
  const d = event.data;
  await client.query(
    `UPDATE webhook_subscriptions SET enabled = FALSE, disabled_reason = $2, version = $3, updated_at = $4
      WHERE id = $1 AND version < $3`,
    [d.subscription_id, d.reason, event.version, d.disabled_at],
  );
}

/**
 * The new secret becomes current; the previous one joins `previous_secrets` until its end.
 * Entries already over at the rotation are dropped, so the list stays as short as the overlaps.
 */
async function rotated(client: PoolClient, event: Stored<WebhookSecretRotated>): Promise<void> {
  const d = event.data;
  await client.query(
    `UPDATE webhook_subscriptions
        SET secret_id = $2,
            previous_secrets = (
              SELECT COALESCE(jsonb_agg(p.entry ORDER BY p.entry->>'rotated_at'), '[]'::jsonb)
                FROM (SELECT entry FROM jsonb_array_elements(previous_secrets) AS entry
                       WHERE (entry->>'valid_until')::timestamptz > $5::timestamptz
                      UNION ALL
                      SELECT jsonb_build_object(
                               'secret_id', $3::text, 'valid_until', $7::text, 'rotated_at', $8::text, 'replaced_by', $9::text)
                       WHERE $4::timestamptz > $5::timestamptz) AS p),
            version = $6, updated_at = $5
      WHERE id = $1 AND version < $6`,
    // Instants and ids twice: as values to compare, and as the event's canonical text to keep.
    [
      d.subscription_id,
      d.secret_id,
      d.previous_secret_id,
      d.previous_valid_until,
      d.rotated_at,
      event.version,
      d.previous_valid_until,
      d.rotated_at,
      d.secret_id,
    ],
  );
}

/** The row stays (so an older event replayed cannot revive it); the secrets are destroyed. */
async function deleted(client: PoolClient, event: Stored<WebhookSubscriptionDeleted>): Promise<void> {
  const d = event.data;
  const { rowCount } = await client.query(
    `UPDATE webhook_subscriptions
        SET enabled = FALSE, deleted_at = $2, previous_secrets = '[]', version = $3, updated_at = $2
      WHERE id = $1 AND version < $3`,
    [d.subscription_id, d.deleted_at, event.version],
  );
  if (rowCount) await client.query('DELETE FROM webhook_secrets WHERE subscription_id = $1', [d.subscription_id]);
}
