import { randomBytes, randomUUID } from 'node:crypto';
import { deleteWebhookScope } from '../../../projections/webhooks/testing/scope';
import { eventually } from '../../../test/support/platform';
import { readTopic } from '../../../test/support/kafka';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';
import { type WebhookSecrets, webhookSecretBytes, webhookSecretsFrom } from '../../webhooks/secrets';

jest.setTimeout(180_000);

/**
 * /admin/webhooks on a whole system (real Kafka, registry, PostgreSQL): secrets shown once and
 * never again (not in reads, not in the log, not in clear in the database), rotation overlaps,
 * the SSRF policy, admins only. Loopback is not allowed here, as in production, so the happy
 * paths use public addresses (nothing is delivered by these tests).
 */
let sys: TestSystem;
let admin: string;
let student: string;
let secrets: WebhookSecrets;
/** Every secret an answer showed: none may appear in the log or in clear in the database. */
const shown: string[] = [];

beforeAll(async () => {
  sys = await startTestSystem({
    WEBHOOK_ALLOW_LOOPBACK: 'false',
    WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
  });
  admin = await sys.adminToken();
  student = (await sys.registerAndLogin('student')).token;
  secrets = webhookSecretsFrom(sys.running.platform.pool, sys.config);
});
afterAll(async () => {
  if (!sys) return;
  await deleteWebhookScope(sys.running.platform.pool, sys.config.KAFKA_TOPIC_PREFIX);
  await sys.stop();
});

const LIST = '/admin/webhooks';
const ONE = '/admin/webhooks/{id}';
const ROTATE = '/admin/webhooks/{id}/rotate-secret';
const path = (id?: string, rest = '') => `/api/v1/admin/webhooks${id ? `/${id}` : ''}${rest}`;

/** Sends a request and checks the answer against the served contract. */
async function call(
  method: string,
  template: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const res = await sys.request(method, url, { token: admin, ...options });
  expectMatchesContract(method, template, res);
  if (typeof res.body?.secret === 'string') shown.push(res.body.secret);
  return res;
}

const input = (overrides: Record<string, unknown> = {}) => ({
  url: `https://93.184.216.34/hooks/${randomUUID().slice(0, 8)}`,
  event_types: ['assessment.completed', 'assessment.failed'],
  ...overrides,
});
const create = (body: unknown = input(), headers: Record<string, string> = {}) =>
  call('POST', LIST, path(), { body, headers });

describe('create', () => {
  test('answers the subscription and its secret, once; reads never show the secret', async () => {
    const body = input({ description: '  Advisor platform  ', ordered: true });
    const created = await create(body);
    expect(created.status).toBe(201);
    const { secret, ...subscription } = created.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretBytes(secret as string)).toHaveLength(32);
    expect(subscription).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: body.url,
      event_types: body.event_types,
      description: 'Advisor platform',
      enabled: true,
      ordered: true,
      disabled_reason: null,
      created_at: expect.any(String),
      updated_at: subscription.created_at,
      version: 1,
    });

    const read = await call('GET', ONE, path(subscription.id));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(subscription);
    const list = await call('GET', LIST, path());
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(subscription);
    const secretBase64 = (secret as string).slice('whsec_'.length);
    for (const answer of [read, list]) {
      expect(JSON.stringify(answer.body)).not.toContain(secretBase64);
      expect(JSON.stringify(answer.body)).not.toContain('whsec_');
    }
    expect(await secrets.signingSecrets(subscription.id)).toEqual([secret]);
  });

  test('a retry with the same Idempotency-Key answers the same subscription and the same secret', async () => {
    const key = `create-${randomUUID()}`;
    const body = input({ event_types: ['recommendation.feedback_received'] });
    const first = await create(body, { 'idempotency-key': key });
    const again = await create(body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.secret).toBe(first.body.secret);
    const other = await create(body, { 'idempotency-key': `${key}-other` });
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.body.secret).not.toBe(first.body.secret);
    const ids = (await call('GET', LIST, path())).body.items.map((s: { id: string }) => s.id);
    expect(ids.filter((id: string) => id === first.body.id)).toHaveLength(1);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['no URL', { event_types: ['assessment.completed'] }, 'INVALID_REQUEST'],
    ['no event types', { url: 'https://93.184.216.34/h' }, 'INVALID_REQUEST'],
    ['an unknown field', input({ secret: 'whsec_mine' }), 'INVALID_REQUEST'],
    ['event types that are not a list', input({ event_types: 'assessment.completed' }), 'INVALID_REQUEST'],
  ])('a malformed body (%s) is 400', async (_name, body, code) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe(code);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['an unknown event type', input({ event_types: ['assessment.started'] }), 'INVALID_WEBHOOK_EVENT_TYPES'],
    ['no event type', input({ event_types: [] }), 'INVALID_WEBHOOK_EVENT_TYPES'],
    [
      'a repeated event type',
      input({ event_types: ['assessment.failed', 'assessment.failed'] }),
      'INVALID_WEBHOOK_EVENT_TYPES',
    ],
    ['a description of 501 characters', input({ description: 'x'.repeat(501) }), 'INVALID_WEBHOOK_SUBSCRIPTION'],
    ['a relative URL', input({ url: '/hooks' }), 'INVALID_WEBHOOK_URL'],
  ])('%s is 422', async (_name, body, code) => {
    const res = await create(body);
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(code);
  });
});

describe('SSRF: URLs a webhook may not point to are refused, and nothing is written', () => {
  test.each<[string, string, string]>([
    ['plain http to a public host', 'http://93.184.216.34/hooks', 'WEBHOOK_URL_FORBIDDEN'],
    ['a private address', 'https://10.0.0.1/hooks', 'WEBHOOK_URL_FORBIDDEN'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', 'WEBHOOK_URL_FORBIDDEN'],
    ['IPv6 loopback (loopback not allowed)', 'http://[::1]:8080/hooks', 'WEBHOOK_URL_FORBIDDEN'],
    ['IPv4 loopback mapped into IPv6', 'https://[::ffff:127.0.0.1]/hooks', 'WEBHOOK_URL_FORBIDDEN'],
    [
      'a host name resolving to 127.0.0.1 (loopback not allowed)',
      'http://localhost:8080/hooks',
      'WEBHOOK_URL_FORBIDDEN',
    ],
    ['credentials in the URL', 'http://user:pw@93.184.216.34/hooks', 'INVALID_WEBHOOK_URL'],
    ['another scheme', 'file:///etc/passwd', 'INVALID_WEBHOOK_URL'],
  ])('%s', async (_name, url, code) => {
    const before = (await call('GET', LIST, path())).body.items.length;
    const res = await create(input({ url }));
    expect({ status: res.status, code: res.body.error_code }).toEqual({ status: 422, code });
    expect(res.body.details).toMatchObject({ field: 'url' });
    expect((await call('GET', LIST, path())).body.items).toHaveLength(before);
  });

  test('a URL changed to a forbidden one is refused too', async () => {
    const { body } = await create();
    const res = await call('PATCH', ONE, path(body.id), { body: { url: 'https://192.168.1.10/hooks' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'WEBHOOK_URL_FORBIDDEN', details: { address_class: 'private' } });
    expect((await call('GET', ONE, path(body.id))).body.url).toBe(body.url);
  });
});

describe('update, enable and disable', () => {
  test('PATCH changes what it names; enabling and disabling are idempotent', async () => {
    const { body: created } = await create(input({ description: 'first' }));
    const changed = await call('PATCH', ONE, path(created.id), {
      body: { event_types: ['assessment.failed'], description: null, ordered: true, url: 'https://1.1.1.1/v2' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      event_types: ['assessment.failed'],
      description: null,
      ordered: true,
      url: 'https://1.1.1.1/v2',
      enabled: true,
      version: 2,
    });

    const disabled = await call('PATCH', ONE, path(created.id), { body: { enabled: false } });
    expect(disabled.body).toMatchObject({ enabled: false, version: 3 });
    const again = await call('PATCH', ONE, path(created.id), { body: { enabled: false } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ enabled: false, version: 3 });
    // A disabled subscription still signs (its deliveries wait for it to be enabled again).
    expect(await secrets.signingSecrets(created.id)).toEqual([created.secret]);

    const enabled = await call('PATCH', ONE, path(created.id), { body: { enabled: true, description: 'back' } });
    expect(enabled.body).toMatchObject({ enabled: true, description: 'back', version: 5 });
  });

  test.each<[string, unknown, number, string]>([
    ['an empty body', {}, 400, 'INVALID_REQUEST'],
    ['an unknown field', { secret: 'x' }, 400, 'INVALID_REQUEST'],
    ['enabled that is not a boolean', { enabled: 'no' }, 400, 'INVALID_REQUEST'],
    ['an unknown event type', { event_types: ['nope'] }, 422, 'INVALID_WEBHOOK_EVENT_TYPES'],
  ])('%s is refused', async (_name, body, status, code) => {
    const { body: created } = await create();
    const res = await call('PATCH', ONE, path(created.id), { body });
    expect({ status: res.status, code: res.body.error_code }).toEqual({ status, code });
  });
});

describe('rotate-secret', () => {
  test('the new secret is current; the previous one signs too until the overlap ends, then only the new', async () => {
    const { body: created } = await create();
    const before = Date.now();
    const rotated = await call('POST', ROTATE, path(created.id, '/rotate-secret'), { body: { overlap_seconds: 3600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    const end = Date.parse(rotated.body.previous_valid_until);
    expect(end).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(end).toBeLessThanOrEqual(Date.now() + 3_600_000);

    expect(await secrets.signingSecrets(created.id)).toEqual([rotated.body.secret, created.secret]);
    expect(await secrets.signingSecrets(created.id, new Date(end - 1))).toEqual([rotated.body.secret, created.secret]);
    expect(await secrets.signingSecrets(created.id, new Date(end))).toEqual([rotated.body.secret]);
    expect(await secrets.signingSecrets(created.id, new Date(end + 60_000))).toEqual([rotated.body.secret]);
    // Never in a read.
    const read = await call('GET', ONE, path(created.id));
    expect(JSON.stringify(read.body)).not.toContain(rotated.body.secret.slice(6));
  });

  test('without a body the overlap is WEBHOOK_SECRET_OVERLAP_SECONDS (a day); with 0 the old secret stops at once', async () => {
    const { body: created } = await create();
    const byDefault = await call('POST', ROTATE, path(created.id, '/rotate-secret'));
    expect(byDefault.status).toBe(200);
    expect(Date.parse(byDefault.body.previous_valid_until) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    const immediate = await call('POST', ROTATE, path(created.id, '/rotate-secret'), { body: { overlap_seconds: 0 } });
    expect(immediate.status).toBe(200);
    // The one rotated out a day from now still signs; the one just rotated out does not.
    expect(await secrets.signingSecrets(created.id)).toEqual([immediate.body.secret, created.secret]);
  });

  test('a retry with the same Idempotency-Key answers the same secret and the same end', async () => {
    const { body: created } = await create();
    const headers = { 'idempotency-key': `rotate-${randomUUID()}` };
    const first = await call('POST', ROTATE, path(created.id, '/rotate-secret'), {
      body: { overlap_seconds: 60 },
      headers,
    });
    await new Promise((r) => setTimeout(r, 20));
    const again = await call('POST', ROTATE, path(created.id, '/rotate-secret'), {
      body: { overlap_seconds: 60 },
      headers,
    });
    expect(again.body).toEqual(first.body);
    expect(await secrets.signingSecrets(created.id)).toEqual([first.body.secret, created.secret]);
  });

  test.each<[string, unknown]>([
    ['a negative overlap', { overlap_seconds: -1 }],
    ['an overlap over 30 days', { overlap_seconds: 2_592_001 }],
    ['an unknown field', { secret: 'whsec_mine' }],
  ])('%s is 400', async (_name, body) => {
    const { body: created } = await create();
    const res = await call('POST', ROTATE, path(created.id, '/rotate-secret'), { body });
    expect(res.status).toBe(400);
    expect(await secrets.signingSecrets(created.id)).toEqual([created.secret]);
  });
});

describe('delete', () => {
  test('deletes the subscription and destroys its secrets; afterwards it is 404 everywhere', async () => {
    const { body: created } = await create();
    const deleted = await call('DELETE', ONE, path(created.id));
    expect(deleted.status).toBe(204);
    expect((await call('GET', ONE, path(created.id))).status).toBe(404);
    expect((await call('GET', LIST, path())).body.items.map((s: { id: string }) => s.id)).not.toContain(created.id);
    for (const [method, template, url, body] of [
      ['DELETE', ONE, path(created.id), undefined],
      ['PATCH', ONE, path(created.id), { enabled: false }],
      ['POST', ROTATE, path(created.id, '/rotate-secret'), {}],
    ] as const) {
      const res = await call(method, template, url, { body });
      expect({ method, status: res.status, code: res.body.error_code }).toEqual({
        method,
        status: 404,
        code: 'WEBHOOK_SUBSCRIPTION_NOT_FOUND',
      });
    }
    expect(await secrets.signingSecrets(created.id)).toEqual([]);
    const { rows } = await sys.running.platform.pool.query('SELECT 1 FROM webhook_secrets WHERE subscription_id = $1', [
      created.id,
    ]);
    expect(rows).toEqual([]);
  });

  test('an unknown or malformed id is 404', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      expect((await call('GET', ONE, path(id))).status).toBe(404);
      expect((await call('DELETE', ONE, path(id))).status).toBe(404);
    }
  });
});

describe('access', () => {
  test('a student is refused every operation with 403; no token is 401', async () => {
    const { body: created } = await create();
    const attempts = [
      ['GET', LIST, path(), undefined],
      ['POST', LIST, path(), input()],
      ['GET', ONE, path(created.id), undefined],
      ['PATCH', ONE, path(created.id), { enabled: false }],
      ['DELETE', ONE, path(created.id), undefined],
      ['POST', ROTATE, path(created.id, '/rotate-secret'), {}],
    ] as const;
    for (const [method, template, url, body] of attempts) {
      const res = await call(method, template, url, { token: student, body });
      expect({ method, url, status: res.status }).toEqual({ method, url, status: 403 });
      const anonymous = await sys.request(method, url, { body });
      expect({ method, url, status: anonymous.status }).toEqual({ method, url, status: 401 });
    }
    expect(await secrets.signingSecrets(created.id)).toEqual([created.secret]);
    expect((await call('GET', ONE, path(created.id))).body.enabled).toBe(true);
  });
});

describe('secrets stay secret', () => {
  test('no row of webhook_secrets holds a secret shown, in clear, as bytes or base64', async () => {
    expect(shown.length).toBeGreaterThan(5);
    const { rows } = await sys.running.platform.pool.query<Record<string, unknown>>(
      `SELECT s.* FROM webhook_secrets s JOIN webhook_subscriptions w ON w.id = s.subscription_id WHERE w.scope = $1`,
      [sys.config.KAFKA_TOPIC_PREFIX],
    );
    expect(rows.length).toBeGreaterThan(5);
    const stored = Buffer.concat(
      rows.flatMap((row) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))))),
    );
    for (const secret of shown) {
      expect(stored.includes(webhookSecretBytes(secret))).toBe(false);
      expect(stored.includes(webhookSecretBytes(secret).subarray(0, 8))).toBe(false);
      expect(stored.includes(Buffer.from(secret.slice(6)))).toBe(false);
    }
  });

  test('no event (nor command) on the identity topics carries a secret: only secret ids', async () => {
    const platform = sys.running.platform;
    const commands = await readTopic(platform, platform.topics.identity.commands);
    const commandLog = JSON.stringify(
      await Promise.all(commands.map(async (r) => (await platform.codec.decode(r.value)).value)),
    );
    expect(commandLog).toContain('CreateWebhookSubscription');
    expect(commandLog).not.toContain('whsec_');
    for (const secret of shown) expect(commandLog).not.toContain(secret.slice(6));

    const decoded = await eventually(async () => {
      const records = await readTopic(platform, platform.topics.identity.events);
      const values = await Promise.all(
        records.map(async (r) => (await platform.codec.decode<{ type: string }>(r.value)).value),
      );
      return values.some((v) => v.type === 'WebhookSubscriptionDeleted') ? values : undefined;
    }, 30_000);
    const types = new Set(decoded.map((v) => v.type));
    for (const type of [
      'WebhookSubscriptionCreated',
      'WebhookSubscriptionUpdated',
      'WebhookSubscriptionEnabled',
      'WebhookSubscriptionDisabled',
      'WebhookSecretRotated',
      'WebhookSubscriptionDeleted',
    ]) {
      expect(types).toContain(type);
    }
    const created = decoded.find((v) => v.type === 'WebhookSubscriptionCreated') as unknown as {
      data: Record<string, unknown>;
    };
    expect(created.data.secret_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(created.data)).not.toContain('secret');
    const log = JSON.stringify(decoded);
    expect(log).not.toContain('whsec_');
    for (const secret of shown) expect(log).not.toContain(secret.slice(6));
  });
});
