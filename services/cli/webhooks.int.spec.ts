import { randomBytes } from 'node:crypto';
import { deleteWebhookScope } from '../../projections/webhooks/testing/scope';
import { startTestSystem, type TestSystem } from '../../test/support/system';
import { cli } from '../replay/testing/cliRun';
import { webhookSecretsFrom, type WebhookSecrets } from '../webhooks/secrets';

jest.setTimeout(180_000);

/** `microcred webhooks create|list|update|delete|rotate-secret` on a whole system (loopback allowed, as in development). */
let sys: TestSystem;
let secrets: WebhookSecrets;
const run = (...argv: string[]) => cli(sys.env, 'webhooks', ...argv);
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown> & { id: string };

beforeAll(async () => {
  sys = await startTestSystem({ WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64') });
  secrets = webhookSecretsFrom(sys.running.platform.pool, sys.config);
});
afterAll(async () => {
  if (!sys) return;
  await deleteWebhookScope(sys.running.platform.pool, sys.config.KAFKA_TOPIC_PREFIX);
  await sys.stop();
});

test('create, list, update, rotate-secret, delete: the secret printed once, the API sees the same', async () => {
  const created = await run(
    'create',
    '--url',
    'http://127.0.0.1:9/hooks',
    '--events',
    'assessment.completed, assessment.failed',
    '--description',
    'Local partner',
    '--ordered',
    '--json',
  );
  expect(created).toMatchObject({ code: 0, stderr: '' });
  const subscription = json(created.stdout);
  expect(subscription).toMatchObject({
    url: 'http://127.0.0.1:9/hooks',
    event_types: ['assessment.completed', 'assessment.failed'],
    description: 'Local partner',
    enabled: true,
    ordered: true,
    secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
  });
  const secret = subscription.secret as string;
  expect(await secrets.signingSecrets(subscription.id)).toEqual([secret]);
  const viaApi = await sys.request('GET', `/api/v1/admin/webhooks/${subscription.id}`, {
    token: await sys.adminToken(),
  });
  expect(viaApi.status).toBe(200);
  expect(viaApi.body).toMatchObject({ id: subscription.id, ordered: true });

  const listed = await run('list', '--json');
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.stdout) as { items: { id: string }[] }).items.map((s) => s.id)).toContain(subscription.id);
  expect(listed.stdout).not.toContain(secret.slice(6));
  const table = await run('list');
  expect(table.stdout).toMatch(/^id\s+enabled\s+ordered\s+event_types\s+url\s+description/);
  expect(table.stdout).toContain('http://127.0.0.1:9/hooks');

  const disabled = await run('update', subscription.id, '--disable', '--reason', 'maintenance', '--json');
  expect(disabled.code).toBe(0);
  expect(json(disabled.stdout)).toMatchObject({ enabled: false, disabled_reason: 'maintenance' });
  const enabled = await run('update', subscription.id, '--enable', '--events', 'assessment.failed', '--unordered');
  expect(enabled).toMatchObject({ code: 0, stderr: '' });
  expect(enabled.stdout).toMatch(/ enabled: http:\/\/127\.0\.0\.1:9\/hooks \(events: assessment\.failed\)/);

  const rotated = await run('rotate-secret', subscription.id, '--overlap-seconds', '600', '--json');
  expect(rotated.code).toBe(0);
  const rotation = JSON.parse(rotated.stdout) as { secret: string; previous_valid_until: string };
  expect(rotation.secret).toMatch(/^whsec_/);
  expect(Date.parse(rotation.previous_valid_until) - Date.now()).toBeGreaterThan(590_000);
  expect(await secrets.signingSecrets(subscription.id)).toEqual([rotation.secret, secret]);
  const text = await run('rotate-secret', subscription.id, '--overlap-seconds', '0');
  expect(text.stdout).toMatch(
    /^new signing secret \(shown only now; store it\): whsec_\S+\nthe previous secret signs too until /,
  );

  const deleted = await run('delete', subscription.id);
  expect(deleted).toMatchObject({ code: 0, stdout: `deleted webhook subscription ${subscription.id}\n` });
  expect(await secrets.signingSecrets(subscription.id)).toEqual([]);
  const gone = await run('update', subscription.id, '--disable');
  expect(gone.code).toBe(1);
  expect(gone.stderr).toMatch(/no webhook subscription .* \(unknown, or deleted\)/);
});

test.each<[string, string[], number, RegExp]>([
  [
    'a private address',
    ['create', '--url', 'https://10.0.0.1/h', '--events', 'assessment.completed'],
    1,
    /WEBHOOK_URL_FORBIDDEN: .*private network/,
  ],
  [
    'plain http to a public host',
    ['create', '--url', 'http://93.184.216.34/h', '--events', 'assessment.completed'],
    1,
    /WEBHOOK_URL_FORBIDDEN: .*must use https/,
  ],
  [
    'credentials in the URL',
    ['create', '--url', 'http://u:p@127.0.0.1/h', '--events', 'assessment.completed'],
    1,
    /INVALID_WEBHOOK_URL/,
  ],
  [
    'an unknown event type',
    ['create', '--url', 'http://127.0.0.1/h', '--events', 'assessment.started'],
    1,
    /INVALID_WEBHOOK_EVENT_TYPES/,
  ],
  ['no event type', ['create', '--url', 'http://127.0.0.1/h', '--events', ' , '], 2, /expected one or more of/],
  ['no URL', ['create', '--events', 'assessment.completed'], 2, /required option '--url <url>'/],
  ['an id that is not a UUID', ['delete', 'hook-1'], 2, /"hook-1" is not a webhook subscription id/],
  ['an unknown id', ['rotate-secret', '3b0c0f4e-2a7c-4c8e-9d1e-5f6a7b8c9d0e'], 1, /no webhook subscription/],
  ['nothing to change', ['update', '3b0c0f4e-2a7c-4c8e-9d1e-5f6a7b8c9d0e'], 1, /nothing to change/],
  [
    '--enable with --disable',
    ['update', '3b0c0f4e-2a7c-4c8e-9d1e-5f6a7b8c9d0e', '--enable', '--disable'],
    1,
    /not both/,
  ],
  [
    'an overlap that is not whole seconds',
    ['rotate-secret', '3b0c0f4e-2a7c-4c8e-9d1e-5f6a7b8c9d0e', '--overlap-seconds', '1.5'],
    2,
    /whole seconds/,
  ],
])('%s is refused, nothing written', async (_name, argv, code, message) => {
  const before = (JSON.parse((await run('list', '--json')).stdout) as { items: unknown[] }).items.length;
  const res = await run(...argv);
  expect({ code: res.code, stdout: res.stdout }).toEqual({ code, stdout: '' });
  expect(res.stderr).toMatch(message);
  expect(res.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect((JSON.parse((await run('list', '--json')).stdout) as { items: unknown[] }).items).toHaveLength(before);
});

test('--help describes every subcommand, the deliveries’ included', async () => {
  const help = await run('--help');
  expect(help.code).toBe(0);
  for (const sub of ['create', 'list', 'update', 'delete', 'rotate-secret', 'deliveries']) {
    expect(help.stdout).toMatch(new RegExp(`^\\s+${sub}\\b`, 'm'));
  }
  const create = await run('create', '--help');
  expect(create.stdout).toMatch(/--events <types>\s+comma-separated: assessment\.completed/);
});
