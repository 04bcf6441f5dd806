import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { idFromKey } from '../../domain/shared/ids';
import type { Config } from '../platform/config';
import { AppError } from '../platform/errors';

/**
 * Webhook signing secrets (Standard Webhooks: `whsec_` + base64 of random bytes), kept in
 * `webhook_secrets` encrypted with AES-256-GCM under WEBHOOK_SECRETS_KEY. Events and the read
 * model carry only a secret's id; the secret is shown once, to whoever created or rotated it,
 * and read back only to sign deliveries. It is never logged.
 *
 * Which secrets sign is decided by the log: the subscription's current secret, and the ones a
 * rotation replaced until the end of their overlap (the read model's `secret_id` and
 * `previous_secrets`). A secret issued for a command that was then refused is never used.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Standard Webhooks asks for 24 to 64 bytes. */
const SECRET_BYTES = 32;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;

/** The id of the secret a command issues: one per command, so a retried command gets the same secret. */
export const secretIdForCommand = (commandId: string): string => idFromKey('webhook_secret', commandId);

/** WEBHOOK_SECRETS_KEY is missing: what issues or reads a secret cannot work (503 in the API). */
export class WebhookSecretsKeyMissingError extends AppError {
  constructor() {
    super(
      'WEBHOOK_SECRETS_NOT_CONFIGURED',
      'Webhook secrets are not configured: set WEBHOOK_SECRETS_KEY to base64 of 32 random bytes (head -c 32 /dev/urandom | base64 -w0); npm start and npm test generate one into .stack/secrets.env',
      503,
    );
  }
}

/** The key from the configuration, or WebhookSecretsKeyMissingError (config validated its form). */
export function webhookSecretsKey(config: Pick<Config, 'WEBHOOK_SECRETS_KEY'>): Buffer {
  if (!config.WEBHOOK_SECRETS_KEY) throw new WebhookSecretsKeyMissingError();
  return Buffer.from(config.WEBHOOK_SECRETS_KEY, 'base64');
}

/** The HMAC key of a `whsec_…` secret: the bytes its base64 encodes (as Standard Webhooks libraries use it). */
export function webhookSecretBytes(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret,
    'base64',
  );
}

interface SecretRow {
  secret_id: string;
  subscription_id: string;
  key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  auth_tag: Buffer;
}

export class WebhookSecrets {
  private readonly keyId: string;

  constructor(
    private readonly pool: Pool,
    private readonly key: Buffer,
  ) {
    if (key.length !== KEY_BYTES) throw new Error(`WEBHOOK_SECRETS_KEY must be ${KEY_BYTES} bytes, got ${key.length}`);
    // Names the key in each row without revealing it: a row sealed under another key is then
    // reported as such, not as a corrupt row.
    this.keyId = createHash('sha256')
      .update('microcred webhook secrets key id\u0000')
      .update(key)
      .digest('hex')
      .slice(0, 16);
  }

  /**
   * Creates (or, for the same secret_id, returns) a secret: 'whsec_' + base64(32 random bytes).
   * Idempotent per secret_id, so a retried request (the same command id) answers the same secret.
   */
  async issue(subscriptionId: string, secretId: string): Promise<string> {
    const bytes = randomBytes(SECRET_BYTES);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(aadOf(subscriptionId, secretId));
    const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
    const { rowCount } = await this.pool.query(
      `INSERT INTO webhook_secrets (secret_id, subscription_id, key_id, nonce, ciphertext, auth_tag)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (secret_id) DO NOTHING`,
      [secretId, subscriptionId, this.keyId, nonce, ciphertext, cipher.getAuthTag()],
    );
    if (rowCount === 1) return format(bytes);
    const { rows } = await this.pool.query<SecretRow>('SELECT * FROM webhook_secrets WHERE secret_id = $1', [secretId]);
    const row = rows[0];
    if (!row) throw new Error(`webhook secret ${secretId} vanished while it was issued; retry`);
    if (row.subscription_id !== subscriptionId.toLowerCase()) {
      throw new Error(`webhook secret ${secretId} belongs to another subscription than ${subscriptionId}`);
    }
    return format(this.open(row));
  }

  /**
   * Secrets to sign with now: the newest first, then older ones whose overlap has not ended.
   * None for an unknown or deleted subscription (or one whose creation the projection has not
   * applied yet).
   */
  async signingSecrets(subscriptionId: string, now: Date = new Date()): Promise<string[]> {
    const { rows } = await this.pool.query<SecretRow>(
      `SELECT s.secret_id, s.subscription_id, s.key_id, s.nonce, s.ciphertext, s.auth_tag
         FROM webhook_subscriptions w
         JOIN webhook_secrets s ON s.subscription_id = w.id
         LEFT JOIN LATERAL (
           SELECT (e->>'valid_until')::timestamptz AS valid_until, (e->>'rotated_at')::timestamptz AS rotated_at
             FROM jsonb_array_elements(w.previous_secrets) AS e
            WHERE e->>'secret_id' = s.secret_id::text
            LIMIT 1) p ON TRUE
        WHERE w.id = $1 AND w.deleted_at IS NULL AND (s.secret_id = w.secret_id OR p.valid_until > $2)
        ORDER BY (s.secret_id = w.secret_id) DESC, p.rotated_at DESC`,
      [subscriptionId, now],
    );
    return rows.map((row) => format(this.open(row)));
  }

  /**
   * Forgets a secret issued for a command that was refused, unless the log refers to it (the
   * subscription's current or previous secret): only a secret nobody can sign with is removed.
   */
  async discardUnused(subscriptionId: string, secretId: string): Promise<void> {
    await this.pool.query(
      `DELETE FROM webhook_secrets s
        WHERE s.secret_id = $2 AND s.subscription_id = $1
          AND NOT EXISTS (
            SELECT 1 FROM webhook_subscriptions w
             WHERE w.id = $1
               AND (w.secret_id = $2 OR w.previous_secrets @> jsonb_build_array(jsonb_build_object('secret_id', $2::text))))`,
      [subscriptionId, secretId],
    );
  }

  private open(row: SecretRow): Buffer {
    if (row.key_id !== this.keyId) {
      throw new Error(
        `webhook secret ${row.secret_id} was encrypted under another WEBHOOK_SECRETS_KEY (key id ${row.key_id}, this one is ${this.keyId}); configure that key, or rotate the subscription's secret`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, row.nonce);
    decipher.setAAD(aadOf(row.subscription_id, row.secret_id));
    decipher.setAuthTag(row.auth_tag);
    try {
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]);
    } catch {
      throw new Error(`webhook secret ${row.secret_id} does not decrypt: its row was altered`);
    }
  }
}

/** The secret's identity is authenticated with it: a row copied onto another subscription fails. */
function aadOf(subscriptionId: string, secretId: string): Buffer {
  return Buffer.from(`microcred webhook secret v1\u0000${subscriptionId.toLowerCase()}\u0000${secretId.toLowerCase()}`);
}

function format(bytes: Buffer): string {
  return `${WEBHOOK_SECRET_PREFIX}${bytes.toString('base64')}`;
}

/** The secrets store of a process, from its configuration (WebhookSecretsKeyMissingError without a key). */
export function webhookSecretsFrom(pool: Pool, config: Pick<Config, 'WEBHOOK_SECRETS_KEY'>): WebhookSecrets {
  return new WebhookSecrets(pool, webhookSecretsKey(config));
}
