import { randomBytes } from 'node:crypto';
import { identityContext } from '../../domain';
import type { IdentityCommand } from '../../domain/identity';
import type { Actor } from '../../domain/shared/decider';
import { idFromKey, userIdForEmail } from '../../domain/shared/ids';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { WebhookSecrets, webhookSecretBytes } from '../../services/webhooks/secrets';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import { webhookSubscriptionsProjection } from './projection';
import {
  listWebhookSubscriptions,
  previousSecretValidUntil,
  webhookScope,
  webhookSubscriptionById,
  webhookSubscriptionsFor,
  type WebhookSubscriptionView,
} from './queries';

jest.setTimeout(120_000);

/**
 * The webhook subscriptions read model from real identity events on Kafka, and the signing
 * secrets beside it: which secrets sign (rotation overlaps), encryption at rest, deletion.
 */
let bed: Testbed;
let secrets: WebhookSecrets;
let scope: string;
const identity = new Streams(identityContext);
const admin: Actor = { id: userIdForEmail('root@example.com'), role: 'admin' };
const deliverer: Actor = { id: 'system:webhooks', role: 'system' };

const id = (name: string) => idFromKey('webhook_subscription', `projection-spec/${name}`);
const secretIdOf = (name: string) => idFromKey('webhook_secret', `projection-spec/${name}`);
const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(id) as [string, string, string, string];
const issued: Record<string, string> = {};

const command = (type: IdentityCommand['type'], data: Record<string, unknown>, seconds: number, actor = admin) =>
  identity.decide(commandOf<IdentityCommand>(type, data as IdentityCommand['data'], actor, at(seconds)));
const create = (subscription: string, secret: string, seconds: number, data: Record<string, unknown>) =>
  command(
    'CreateWebhookSubscription',
    { subscription_id: subscription, secret_id: secretIdOf(secret), ...data },
    seconds,
  );

const events: EventEnvelope[] = [];

beforeAll(async () => {
  bed = await createTestbed();
  scope = webhookScope(bed.platform.config);
  secrets = new WebhookSecrets(bed.platform.pool, randomBytes(32));
  // Secrets are issued first, as the API does, then the commands that refer to them.
  for (const [subscription, secret] of [
    [a, 'a1'],
    [a, 'a2'],
    [a, 'a3'],
    [b, 'b1'],
    [c, 'c1'],
    [d, 'd1'],
  ] as const) {
    issued[secret] = await secrets.issue(subscription, secretIdOf(secret));
  }
  events.push(
    ...identity.decide(
      commandOf<IdentityCommand>(
        'RegisterUser',
        { user_id: userIdForEmail('ada@example.com'), email: 'ada@example.com', role: 'student' },
        { id: 'system:bootstrap', role: 'system' },
        at(0),
      ),
    ),
    ...create(a, 'a1', 1, {
      url: 'https://advisors.example/hooks',
      event_types: ['assessment.completed', 'assessment.failed', 'recommendation.feedback_received'],
      description: 'Advisor platform',
      ordered: true,
    }),
    ...create(b, 'b1', 10, { url: 'https://employers.example/in', event_types: ['assessment.failed'] }),
    ...command(
      'UpdateWebhookSubscription',
      { subscription_id: b, event_types: ['assessment.failed', 'assessment.completed'], description: 'Employers' },
      20,
    ),
    ...create(c, 'c1', 30, { url: 'https://gone.example/', event_types: ['assessment.completed'] }),
    ...command('DeleteWebhookSubscription', { subscription_id: c }, 40),
    ...create(d, 'd1', 50, { url: 'http://127.0.0.1:9/dev', event_types: ['assessment.completed'] }),
    ...command(
      'DisableWebhookSubscription',
      { subscription_id: d, reason: 'the endpoint answered 410 Gone' },
      60,
      deliverer,
    ),
    // Two rotations of a: a1 signs until at(200), a2 until at(300); a3 is current.
    ...command(
      'RotateWebhookSecret',
      { subscription_id: a, secret_id: secretIdOf('a2'), previous_valid_until: at(200) },
      70,
    ),
    ...command(
      'RotateWebhookSecret',
      { subscription_id: a, secret_id: secretIdOf('a3'), previous_valid_until: at(300) },
      80,
    ),
  );
  await bed.publish('identity', events);
  await bed.startRunner(webhookSubscriptionsProjection);
  await bed.caughtUp(webhookSubscriptionsProjection);
});

afterAll(async () => {
  await bed?.close();
});

const views = async () => listWebhookSubscriptions(bed.platform.pool, scope);

test('subscriptions are listed oldest first, deleted ones left out, secrets never shown', async () => {
  const list = await views();
  expect(list.map((s) => s.id)).toEqual([a, b, d]);
  expect(list[0]).toEqual<WebhookSubscriptionView>({
    id: a,
    url: 'https://advisors.example/hooks',
    event_types: ['assessment.completed', 'assessment.failed', 'recommendation.feedback_received'],
    description: 'Advisor platform',
    enabled: true,
    ordered: true,
    disabled_reason: null,
    created_at: at(1),
    updated_at: at(80),
    version: 3,
  });
  expect(list[1]).toMatchObject({
    event_types: ['assessment.failed', 'assessment.completed'],
    description: 'Employers',
    ordered: false,
    updated_at: at(20),
    version: 2,
  });
  expect(list[2]).toMatchObject({ enabled: false, disabled_reason: 'the endpoint answered 410 Gone', version: 2 });
  expect(JSON.stringify(list)).not.toContain('whsec_');
});

test('by id: a deleted, unknown or malformed id is undefined', async () => {
  expect(await webhookSubscriptionById(bed.platform.pool, b, scope)).toMatchObject({ id: b, enabled: true });
  expect(await webhookSubscriptionById(bed.platform.pool, c, scope)).toBeUndefined();
  expect(await webhookSubscriptionById(bed.platform.pool, id('nope'), scope)).toBeUndefined();
  expect(await webhookSubscriptionById(bed.platform.pool, 'not-a-uuid', scope)).toBeUndefined();
});

test('by event type: the subscriptions that asked for it, enabled or not, never deleted ones', async () => {
  const ids = async (type: string) => (await webhookSubscriptionsFor(bed.platform.pool, type, scope)).map((s) => s.id);
  expect(await ids('assessment.completed')).toEqual([a, b, d]);
  expect(await ids('assessment.failed')).toEqual([a, b]);
  expect(await ids('recommendation.feedback_received')).toEqual([a]);
  expect(await ids('assessment.started')).toEqual([]);
});

test('another system sharing the database (another topic prefix) sees none of them', async () => {
  expect(await listWebhookSubscriptions(bed.platform.pool, `${scope}-other`)).toEqual([]);
  expect(await webhookSubscriptionsFor(bed.platform.pool, 'assessment.completed', 'microcred')).toEqual([]);
  expect(await webhookSubscriptionById(bed.platform.pool, a, `${scope}-other`)).toBeUndefined();
});

describe('signing secrets', () => {
  const signing = (subscription: string, seconds: number) =>
    secrets.signingSecrets(subscription, new Date(at(seconds)));

  test('are "whsec_" and base64 of 32 random bytes', () => {
    for (const secret of Object.values(issued)) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(webhookSecretBytes(secret)).toHaveLength(32);
    }
    expect(new Set(Object.values(issued)).size).toBe(Object.keys(issued).length);
  });

  test('during rotation overlaps: the newest first, then the older ones until their end', async () => {
    expect(await signing(a, 90)).toEqual([issued.a3, issued.a2, issued.a1]);
    expect(await signing(a, 200)).toEqual([issued.a3, issued.a2]);
    expect(await signing(a, 299)).toEqual([issued.a3, issued.a2]);
    expect(await signing(a, 300)).toEqual([issued.a3]);
    expect(await secrets.signingSecrets(a)).toEqual([issued.a3]);
  });

  test('each rotation records until when the secret it replaced signs', async () => {
    const end = (secret: string) => previousSecretValidUntil(bed.platform.pool, a, secretIdOf(secret), scope);
    expect(await end('a2')).toBe(at(200));
    expect(await end('a3')).toBe(at(300));
    expect(await end('a1')).toBeUndefined();
    expect(await previousSecretValidUntil(bed.platform.pool, a, secretIdOf('a3'), 'other')).toBeUndefined();
  });

  test('a subscription never rotated signs with its one secret, disabled or not', async () => {
    expect(await signing(b, 90)).toEqual([issued.b1]);
    expect(await signing(d, 90)).toEqual([issued.d1]);
  });

  test('a deleted subscription has none: its secrets are destroyed', async () => {
    expect(await signing(c, 90)).toEqual([]);
    const { rows } = await bed.platform.pool.query('SELECT 1 FROM webhook_secrets WHERE subscription_id = $1', [c]);
    expect(rows).toEqual([]);
    expect(await signing(id('nope'), 90)).toEqual([]);
  });

  test('are encrypted at rest: no row holds the secret, its bytes or its base64', async () => {
    const { rows } = await bed.platform.pool.query<Record<string, unknown>>('SELECT * FROM webhook_secrets');
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const stored = Buffer.concat(
      rows.flatMap((row) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))))),
    );
    for (const secret of Object.values(issued)) {
      const bytes = webhookSecretBytes(secret);
      expect(stored.includes(bytes)).toBe(false);
      expect(stored.includes(bytes.subarray(0, 8))).toBe(false);
      expect(stored.includes(Buffer.from(secret))).toBe(false);
      expect(stored.includes(Buffer.from(secret.slice(6, 20)))).toBe(false);
    }
  });

  test('issuing is idempotent per secret id (a retried request shows the same secret)', async () => {
    expect(await secrets.issue(a, secretIdOf('a1'))).toBe(issued.a1);
    expect(await secrets.issue(a.toUpperCase(), secretIdOf('a1'))).toBe(issued.a1);
    await expect(secrets.issue(b, secretIdOf('a1'))).rejects.toThrow(/belongs to another subscription/);
  });

  test('under another key they do not open, and the error says why', async () => {
    const other = new WebhookSecrets(bed.platform.pool, randomBytes(32));
    await expect(other.signingSecrets(b)).rejects.toThrow(/encrypted under another WEBHOOK_SECRETS_KEY/);
    expect(() => new WebhookSecrets(bed.platform.pool, randomBytes(16))).toThrow(/must be 32 bytes/);
  });

  test('a row moved onto another subscription, or altered, does not decrypt', async () => {
    const moved = secretIdOf('moved');
    await secrets.issue(id('elsewhere'), moved);
    // Pretend someone re-pointed the row at b and made it b's current secret.
    await bed.platform.pool.query('UPDATE webhook_secrets SET subscription_id = $1 WHERE secret_id = $2', [b, moved]);
    await bed.platform.pool.query('UPDATE webhook_subscriptions SET secret_id = $1 WHERE id = $2', [moved, b]);
    try {
      await expect(secrets.signingSecrets(b)).rejects.toThrow(/does not decrypt: its row was altered/);
    } finally {
      await bed.platform.pool.query('UPDATE webhook_subscriptions SET secret_id = $1 WHERE id = $2', [
        secretIdOf('b1'),
        b,
      ]);
      await bed.platform.pool.query('DELETE FROM webhook_secrets WHERE secret_id = $1', [moved]);
    }
    expect(await secrets.signingSecrets(b)).toEqual([issued.b1]);
  });

  test('a secret issued for a refused command is discarded; one the log refers to never is', async () => {
    const orphan = secretIdOf('orphan');
    await secrets.issue(b, orphan);
    await secrets.discardUnused(b, orphan);
    await secrets.discardUnused(b, secretIdOf('b1'));
    await secrets.discardUnused(a, secretIdOf('a2'));
    const { rows } = await bed.platform.pool.query<{ secret_id: string }>(
      'SELECT secret_id FROM webhook_secrets WHERE secret_id = ANY($1)',
      [[orphan, secretIdOf('b1'), secretIdOf('a2')]],
    );
    expect(rows.map((r) => r.secret_id).sort()).toEqual([secretIdOf('b1'), secretIdOf('a2')].sort());
  });
});

test('a rebuild from offset 0 gives the same rows; an older event applied again changes nothing', async () => {
  const before = await views();
  const signingBefore = await secrets.signingSecrets(a, new Date(at(90)));
  await bed.stopRunners();
  await bed.reset(webhookSubscriptionsProjection, ['webhook_subscriptions']);
  await bed.startRunner(webhookSubscriptionsProjection);
  await bed.caughtUp(webhookSubscriptionsProjection);
  expect(await views()).toEqual(before);
  expect(await secrets.signingSecrets(a, new Date(at(90)))).toEqual(signingBefore);

  const olderUpdate = events.find((e) => e.type === 'WebhookSubscriptionUpdated')!;
  await bed.applyDirectly(webhookSubscriptionsProjection, { ...olderUpdate, aggregate_id: b });
  const recreated = events.find((e) => e.type === 'WebhookSubscriptionCreated' && e.aggregate_id === c)!;
  await bed.applyDirectly(webhookSubscriptionsProjection, recreated);
  expect(await views()).toEqual(before);
});
