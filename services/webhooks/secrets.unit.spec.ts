import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { loadConfig } from '../platform/config';
import {
  secretIdForCommand,
  WebhookSecrets,
  webhookSecretBytes,
  webhookSecretsFrom,
  webhookSecretsKey,
  WebhookSecretsKeyMissingError,
} from './secrets';

const noPool = {} as Pool;

describe('WEBHOOK_SECRETS_KEY', () => {
  test('is base64 of exactly 32 bytes', () => {
    const key = randomBytes(32).toString('base64');
    expect(webhookSecretsKey(loadConfig({ WEBHOOK_SECRETS_KEY: key }))).toEqual(Buffer.from(key, 'base64'));
    for (const bad of [
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(32).toString('hex'),
      randomBytes(32).toString('base64url'),
      'not base64 at all, not at all, not at all!!',
    ]) {
      expect(() => loadConfig({ WEBHOOK_SECRETS_KEY: bad })).toThrow(
        /WEBHOOK_SECRETS_KEY=.*must be base64 of exactly 32 bytes .*head -c 32 \/dev\/urandom \| base64 -w0/,
      );
    }
  });

  test('is optional in the configuration, and required, with a clear 503, by what uses it', () => {
    const config = loadConfig({});
    expect(config.WEBHOOK_SECRETS_KEY).toBeUndefined();
    expect(() => webhookSecretsFrom(noPool, config)).toThrow(WebhookSecretsKeyMissingError);
    const error = new WebhookSecretsKeyMissingError();
    expect(error).toMatchObject({ status: 503, code: 'WEBHOOK_SECRETS_NOT_CONFIGURED' });
    expect(error.message).toMatch(/set WEBHOOK_SECRETS_KEY to base64 of 32 random bytes/);
    expect(() => new WebhookSecrets(noPool, randomBytes(31))).toThrow(/must be 32 bytes/);
  });

  test('the rotation overlap defaults to a day and stays within 30 days', () => {
    expect(loadConfig({}).WEBHOOK_SECRET_OVERLAP_SECONDS).toBe(86_400);
    expect(loadConfig({ WEBHOOK_SECRET_OVERLAP_SECONDS: '0' }).WEBHOOK_SECRET_OVERLAP_SECONDS).toBe(0);
    expect(() => loadConfig({ WEBHOOK_SECRET_OVERLAP_SECONDS: '2592001' })).toThrow(/WEBHOOK_SECRET_OVERLAP_SECONDS/);
  });
});

test('a secret’s HMAC key is the bytes its base64 encodes, with or without the whsec_ prefix', () => {
  const bytes = randomBytes(32);
  expect(webhookSecretBytes(`whsec_${bytes.toString('base64')}`)).toEqual(bytes);
  expect(webhookSecretBytes(bytes.toString('base64'))).toEqual(bytes);
});

test('each command issues its own secret id, the same for a retry of that command', () => {
  const a = secretIdForCommand('6f1e0c1a-1d5b-4a57-9a64-4f1d0c7f2b11');
  expect(a).toBe(secretIdForCommand('6f1e0c1a-1d5b-4a57-9a64-4f1d0c7f2b11'));
  expect(a).not.toBe(secretIdForCommand('6f1e0c1a-1d5b-4a57-9a64-4f1d0c7f2b12'));
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
