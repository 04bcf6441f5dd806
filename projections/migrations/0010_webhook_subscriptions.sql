-- Partners' webhook subscriptions (identity context).
--
-- `webhook_subscriptions` is a read model (projections/webhooks/projection.ts): where to deliver
-- which public events, and which signing secrets are valid until when. `scope` is the topic
-- prefix of the system whose events made the row (KAFKA_TOPIC_PREFIX): systems sharing one
-- database (tests, tenants) never deliver to, list or clean up each other's subscriptions.
-- `version` is the last event applied to the row; only a newer one may change it. A deleted
-- subscription keeps its row (deleted_at set) so that a replayed older event cannot revive it.
CREATE TABLE webhook_subscriptions (
  id UUID PRIMARY KEY,
  scope TEXT NOT NULL,
  url TEXT NOT NULL,
  event_types TEXT[] NOT NULL,
  description TEXT,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  ordered BOOLEAN NOT NULL DEFAULT FALSE,
  disabled_reason TEXT,
  -- The current signing secret, and the previous ones still in their overlap:
  -- [{"secret_id": uuid, "valid_until": instant, "rotated_at": instant, "replaced_by": uuid}].
  secret_id UUID NOT NULL,
  previous_secrets JSONB NOT NULL DEFAULT '[]',
  version BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  deleted_at TIMESTAMPTZ
);
-- The deliverer's question: which live subscriptions of this system want this event type.
CREATE INDEX idx_webhook_subscriptions_event_types ON webhook_subscriptions USING GIN (event_types)
  WHERE deleted_at IS NULL;
CREATE INDEX idx_webhook_subscriptions_scope ON webhook_subscriptions (scope, created_at, id)
  WHERE deleted_at IS NULL;

-- Signing secrets, AES-256-GCM encrypted with WEBHOOK_SECRETS_KEY (services/webhooks/secrets.ts).
-- Infrastructure state, not a read model: written by whoever issues a secret (the API, the CLI)
-- before the command that refers to it by `secret_id`; no event ever carries the secret. Which
-- secrets sign is the read model's answer (webhook_subscriptions.secret_id, previous_secrets).
-- `key_id` names the key that encrypted the row (a hash prefix, never the key), so a changed
-- key is reported as such instead of as a corrupt row; the GCM tag also authenticates the
-- subscription and secret ids, so a row copied onto another subscription does not decrypt.
CREATE TABLE webhook_secrets (
  secret_id UUID PRIMARY KEY,
  subscription_id UUID NOT NULL,
  key_id VARCHAR(32) NOT NULL,
  nonce BYTEA NOT NULL,
  ciphertext BYTEA NOT NULL,
  auth_tag BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_webhook_secrets_subscription ON webhook_secrets (subscription_id);
