import { createHmac } from 'node:crypto';

/**
 * Signing per the Standard Webhooks spec (standard-webhooks/standard-webhooks,
 * `spec/standard-webhooks.md`): the signed content is `{webhook-id}.{webhook-timestamp}.{body}`,
 * signed with HMAC-SHA256 under the secret's bytes (the base64 after `whsec_`); each signature is
 * `v1,<base64>`, and several (one per active secret, during a rotation) are space-separated so a
 * receiver holding either secret verifies.
 */

export const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a `whsec_…` secret: the base64-decoded part after the prefix. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('A webhook secret starts with whsec_');
  const encoded = secret.slice(SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from ignores what is not base64: a secret that does not round-trip is malformed.
  if (key.length < 16 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new Error('A webhook secret is whsec_ followed by the base64 of at least 16 bytes');
  }
  return key;
}

/** One `v1,` signature of a message. */
export function signatureOf(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${webhookId}.${timestampSeconds}.${body}`, 'utf8')
    .digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three Standard Webhooks headers of one attempt: the id (stable across retries: the
 * receiver's idempotency key), the attempt's time in Unix seconds, and one signature per secret
 * (the newest first).
 */
export function signedHeaders(
  secrets: readonly string[],
  webhookId: string,
  body: string,
  now: Date = new Date(),
): SignedHeaders {
  if (secrets.length === 0) throw new Error('No signing secret');
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signatureOf(s, webhookId, timestamp, body)).join(' '),
  };
}
