import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import vm from 'node:vm';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { readTopic } from '../../../test/support/kafka';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';
import { repoPath } from '../../platform/paths';
import { cli } from '../../replay/testing/cliRun';
import { webhookPayload } from '../../publisher/publicEvents';
import { webhookSecretsFrom } from '../secrets';
import type { DeliveryDetails } from './deliveryAdmin';
import { signedHeaders } from './signature';
import {
  createSubscription,
  deleteWebhookRows,
  PublicEventSource,
  setEnabled,
  startPartner,
  type Partner,
  type Responder,
} from './testing/partners';

jest.setTimeout(120_000);

/** `require` for the documentation's snippet (it loads node:http and standardwebhooks). */
const load = createRequire(__filename);

// Retries in milliseconds rather than hours; a timeout above the slow partner's 30 s.
const RETRY_SCHEDULE = [300, 600, 900];
const ATTEMPTS = RETRY_SCHEDULE.length + 1;
const ENV = {
  WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE.map((ms) => `${ms}ms`).join(','),
  WEBHOOK_RETRY_AFTER_MAX_MS: '1500',
  WEBHOOK_TIMEOUT_MS: '35000',
  WEBHOOK_CONCURRENCY: '8',
  WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION: '2',
  PROCESSOR_POLL_MS: '50',
};

let sys: TestSystem;
let events: PublicEventSource;
const partners: Partner[] = [];
const subscriptions: string[] = [];

beforeAll(async () => {
  sys = await startTestSystem(ENV);
  events = new PublicEventSource(sys.running.platform);
});
afterEach(async () => {
  // Each test's subscriptions go with it: later events are not fanned out to earlier partners.
  const token = await sys.adminToken();
  for (const id of subscriptions.splice(0)) await sys.request('DELETE', `/api/v1/admin/webhooks/${id}`, { token });
});
afterAll(async () => {
  await events?.close();
  for (const p of partners) await p.close();
  await sys?.stop();
  if (sys) await deleteWebhookRows(sys.config);
});

async function partner(responder?: Responder): Promise<Partner> {
  const p = await startPartner(responder);
  partners.push(p);
  return p;
}

async function subscribe(url: string, options: { ordered?: boolean } = {}) {
  const created = await createSubscription(sys, { url, event_types: ['assessment.failed'], ...options });
  subscriptions.push(created.id);
  return created;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api<T = any>(method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
  return sys.request<T>(method, `/api/v1/admin/webhooks${path}`, { token: await sys.adminToken(), body });
}

/** A subscription's delivery of a public event, once it exists (and `ready` accepts it). */
function deliveryOf(
  subscriptionId: string,
  webhookId: string,
  ready: (d: DeliveryDetails) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<DeliveryDetails> {
  return eventually(
    async () => {
      const res = await api<{ items: DeliveryDetails[] }>('GET', `/${subscriptionId}/deliveries?limit=100`);
      const found = res.body.items.find((d) => d.webhook_id === webhookId);
      return found && ready(found) ? found : undefined;
    },
    timeoutMs,
    `the delivery of ${webhookId}`,
  );
}

/** The request's headers as a receiver's library takes them (one string each). */
function headersOf(r: { headers: IncomingHttpHeaders }): Record<string, string> {
  return Object.fromEntries(
    Object.entries(r.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)]),
  );
}

const requestsFor = (p: Partner, webhookId: string) => p.requests.filter((r) => r.webhookId === webhookId);
const deliveredFor = (p: Partner, webhookId: string) => p.delivered().filter((r) => r.webhookId === webhookId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('signatures (Standard Webhooks)', () => {
  test('every delivery verifies with the standardwebhooks package; a tampered body or a stale timestamp does not', async () => {
    const p = await partner();
    const { id, secret } = await subscribe(p.url);
    const event = await events.publish();
    const [request] = await p.waitForDeliveries(1);
    const r = request!;

    expect(r.webhookId).toBe(event.id);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(JSON.parse(r.body)).toEqual(webhookPayload(event));

    const receiver = new Webhook(secret);
    expect(receiver.verify(r.body, headersOf(r))).toEqual(JSON.parse(r.body));
    expect(() => receiver.verify(r.body.replace('No active', 'An active'), headersOf(r))).toThrow(
      WebhookVerificationError,
    );
    expect(() => receiver.verify(r.body, { ...headersOf(r), 'webhook-id': randomUUID() })).toThrow(
      WebhookVerificationError,
    );
    // The same message, correctly signed, ten minutes late (a replay): refused for its timestamp.
    const stale = signedHeaders([secret], event.id, r.body, new Date(Date.now() - 10 * 60_000));
    expect(() => receiver.verify(r.body, { ...stale })).toThrow(/too old/i);
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(r.body, headersOf(r))).toThrow(
      WebhookVerificationError,
    );

    const delivery = await deliveryOf(id, event.id, (d) => d.status === 'delivered');
    expect(delivery).toMatchObject({ attempt_count: 1, response_code: 204, event_type: 'assessment.failed' });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ attempt_number: 1, response_code: 204, error: null, duration_ms: expect.any(Number) }),
    ]);
  });

  test('the verification snippet of docs/partners.md accepts a real delivery once and refuses a tampered or replayed one', async () => {
    const markdown = readFileSync(repoPath('docs', 'partners.md'), 'utf8');
    const snippet = /<!-- verify-snippet -->\s*```js\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(snippet).toBeDefined();

    const port = await freePort();
    const { secret } = await subscribe(`http://127.0.0.1:${port}/webhooks`);
    // The snippet runs as written; `handleEvent` is the partner's own code, and `http` is
    // wrapped only to keep a copy of each request for the replays below.
    const handled: unknown[] = [];
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const recordingHttp = {
      ...http,
      createServer: (listener: RequestListener) =>
        http.createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
          listener(req, res);
        }),
    };
    const server = vm.runInNewContext(snippet!, {
      require: (name: string) => (name === 'node:http' ? recordingHttp : (load(name) as unknown)),
      process: { env: { MICROCRED_WEBHOOK_SECRET: secret, PORT: String(port) } },
      Buffer,
      handleEvent: (event: unknown) => handled.push(event),
    }) as http.Server;
    try {
      const event = await events.publish();
      await eventually(async () => (handled.length === 1 ? true : undefined), 20_000, 'the snippet to handle it');
      expect(handled[0]).toEqual(webhookPayload(event));

      const genuine = received[0]!;
      const send = (body: string, headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/webhooks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        }).then((res) => res.status);
      const signed = (h: Record<string, string>) => ({
        'webhook-id': h['webhook-id']!,
        'webhook-timestamp': h['webhook-timestamp']!,
        'webhook-signature': h['webhook-signature']!,
      });
      expect(await send(genuine.body.replace('No active', 'An active'), signed(headersOf(genuine)))).toBe(400);
      const late = signedHeaders([secret], event.id, genuine.body, new Date(Date.now() - 10 * 60_000));
      expect(await send(genuine.body, { ...late })).toBe(400);
      // The genuine request again (a retry): acknowledged, not handled twice.
      expect(await send(genuine.body, signed(headersOf(genuine)))).toBe(204);
      expect(handled).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('while a secret is rotated, two signatures: each verifies with its own secret', async () => {
    const p = await partner();
    const { id, secret: previous } = await subscribe(p.url);
    const rotated = await api<{ secret: string }>('POST', `/${id}/rotate-secret`, { overlap_seconds: 3600 });
    expect(rotated.status).toBe(200);
    const next = rotated.body.secret;
    const store = webhookSecretsFrom(sys.running.platform.pool, sys.config);
    await eventually(async () => ((await store.signingSecrets(id)).length === 2 ? true : undefined));

    await events.publish();
    const [r] = await p.waitForDeliveries(1);
    const signatures = String(r!.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const secret of [next, previous]) {
      expect(() => new Webhook(secret).verify(r!.body, headersOf(r!))).not.toThrow();
      // Each signature on its own is one of them: the receiver that knows only one secret verifies.
    }
    const verifiedBy = (secret: string) =>
      signatures.filter((s) => {
        try {
          new Webhook(secret).verify(r!.body, { ...headersOf(r!), 'webhook-signature': s });
          return true;
        } catch {
          return false;
        }
      });
    expect(verifiedBy(next)).toEqual([signatures[0]]);
    expect(verifiedBy(previous)).toEqual([signatures[1]]);
  });
});

describe('retries and dead letters', () => {
  test('a partner down for a while: every delivery is retried, then delivered once, each attempt recorded', async () => {
    let up = false;
    const p = await partner(() => (up ? { status: 200, body: 'ok' } : { status: 503, body: 'down for maintenance' }));
    const { id } = await subscribe(p.url);
    const published = [await events.publish(), await events.publish(), await events.publish()];
    await eventually(
      async () => (published.every((e) => requestsFor(p, e.id).length >= 2) ? true : undefined),
      20_000,
      'two failed attempts of each',
    );
    up = true;
    await p.waitForDeliveries(3);
    await sleep(RETRY_SCHEDULE.at(-1)! * 2); // nothing more comes

    for (const event of published) {
      expect(deliveredFor(p, event.id)).toHaveLength(1);
      const requests = requestsFor(p, event.id);
      const delivery = await deliveryOf(id, event.id, (d) => d.status === 'delivered');
      expect(delivery.attempt_count).toBe(requests.length);
      expect(delivery.attempts.map((a) => a.response_code)).toEqual(requests.map((r) => r.status));
      expect(delivery.attempts.at(-1)).toMatchObject({ response_code: 200, response_body: 'ok' });
      expect(delivery.attempts[0]).toMatchObject({ response_code: 503, response_body: 'down for maintenance' });
      expect(delivery.attempts.map((a) => a.attempt_number)).toEqual(requests.map((_, i) => i + 1));
      // The schedule's waits (±20%) separate the attempts.
      const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at);
      gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(RETRY_SCHEDULE[i]! * 0.8 - 20));
      expect(new Set(requests.map((r) => r.body)).size).toBe(1); // the same body on every attempt
    }
  });

  test('a permanently failing partner: dead-lettered, visible, redeliverable, then delivered once', async () => {
    let fixed = false;
    const p = await partner(() => (fixed ? { status: 204 } : { status: 500, body: 'boom' }));
    const { id } = await subscribe(p.url);
    const event = await events.publish();

    const dead = await deliveryOf(id, event.id, (d) => d.status === 'dead_lettered');
    expect(dead.attempt_count).toBe(ATTEMPTS);
    expect(dead.attempts.map((a) => a.response_code)).toEqual(new Array(ATTEMPTS).fill(500));
    expect(requestsFor(p, event.id)).toHaveLength(ATTEMPTS);
    const listed = await api('GET', `/${id}/deliveries?status=dead_lettered`);
    expectMatchesContract('GET', '/admin/webhooks/{id}/deliveries', listed);
    expect(listed.body.items.map((d: DeliveryDetails) => d.id)).toEqual([dead.id]);

    // The dead-letter topic has it too, with its context.
    const { platform } = sys.running;
    const letter = await eventually(async () =>
      (await readTopic(platform, platform.topics.deadLetter)).find((r) => r.key === dead.id),
    );
    expect(JSON.parse(letter.value.toString('utf8'))).toMatchObject({
      delivery_id: dead.id,
      subscription_id: id,
      webhook_id: event.id,
      event_type: 'assessment.failed',
      attempts: ATTEMPTS,
      error: { name: 'DeliveryFailedError', message: 'the endpoint answered 500' },
    });

    fixed = true;
    const redelivered = await api('POST', `/${id}/deliveries/${dead.id}/redeliver`);
    expect(redelivered.status).toBe(202);
    expectMatchesContract('POST', '/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver', redelivered);
    await p.waitForDeliveries(1);
    const done = await deliveryOf(id, event.id, (d) => d.status === 'delivered');
    expect(done.attempt_count).toBe(ATTEMPTS + 1);
    expect(done.attempts.at(-1)).toMatchObject({ attempt_number: ATTEMPTS + 1, response_code: 204 });
    await sleep(500);
    expect(deliveredFor(p, event.id)).toHaveLength(1);
    expect(new Set(requestsFor(p, event.id).map((r) => r.webhookId))).toEqual(new Set([event.id]));

    // Every dead letter of the subscription at once.
    fixed = false;
    const more = [await events.publish(), await events.publish()];
    for (const e of more) await deliveryOf(id, e.id, (d) => d.status === 'dead_lettered');
    fixed = true;
    const all = await api('POST', `/${id}/redeliver-dead-letters`);
    expect(all.status).toBe(202);
    expectMatchesContract('POST', '/admin/webhooks/{id}/redeliver-dead-letters', all);
    expect(all.body.redelivered).toBe(2);
    await p.waitForDeliveries(3);
    for (const e of more) {
      await deliveryOf(id, e.id, (d) => d.status === 'delivered');
      expect(deliveredFor(p, e.id)).toHaveLength(1);
    }
    expect((await api('POST', `/${id}/redeliver-dead-letters`)).body).toEqual({ redelivered: 0, delivery_ids: [] });
  });

  test('429 with Retry-After: the next attempt waits as asked (up to the cap)', async () => {
    const p = await partner((_r, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 },
    );
    await subscribe(p.url);
    await events.publish();
    const delivered = await p.waitForDeliveries(1);
    const [first, second] = p.requests;
    expect(delivered[0]).toBe(second);
    // The schedule says ~300 ms; the partner said 1 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });
});

describe('410 Gone, disabling and enabling', () => {
  test('410 Gone disables the subscription and parks its deliveries; enabling it again resumes them', async () => {
    let gone = true;
    const p = await partner(() => (gone ? { status: 410, body: 'gone' } : { status: 204 }));
    const { id } = await subscribe(p.url);
    const first = await events.publish();

    const subscription = await eventually(async () => {
      const res = await api('GET', `/${id}`);
      return res.body.enabled === false ? res.body : undefined;
    });
    expect(subscription.disabled_reason).toMatch(/410 Gone/);
    const parked = await deliveryOf(id, first.id, (d) => d.status === 'parked');
    expect(parked.attempt_count).toBe(1);
    expect(parked.attempts[0]).toMatchObject({ response_code: 410, response_body: 'gone' });

    // Later events wait too, without attempts.
    const second = await events.publish();
    expect(await deliveryOf(id, second.id, (d) => d.status === 'parked')).toMatchObject({ attempt_count: 0 });
    await sleep(1500);
    expect(p.requests).toHaveLength(1);

    gone = false;
    await setEnabled(sys, id, true);
    await p.waitForDeliveries(2);
    expect(await deliveryOf(id, first.id, (d) => d.status === 'delivered')).toMatchObject({ attempt_count: 2 });
    expect(await deliveryOf(id, second.id, (d) => d.status === 'delivered')).toMatchObject({ attempt_count: 1 });
  });

  test('a disabled subscription gets nothing and uses no attempts; enabled again, it gets everything', async () => {
    const p = await partner();
    const { id } = await subscribe(p.url);
    await setEnabled(sys, id, false);
    const published = [await events.publish(), await events.publish()];
    for (const e of published) {
      expect(await deliveryOf(id, e.id, (d) => d.status === 'parked')).toMatchObject({ attempt_count: 0 });
    }
    await sleep(1000);
    expect(p.requests).toHaveLength(0);

    // Nothing new is queued for it meanwhile: the operator is told to enable it first.
    const test = await api('POST', `/${id}/test`);
    expect(test.status).toBe(409);
    expect(test.body.error_code).toBe('WEBHOOK_DISABLED');
    expectMatchesContract('POST', '/admin/webhooks/{id}/test', test);

    await setEnabled(sys, id, true);
    await p.waitForDeliveries(2);
    for (const e of published) {
      expect(await deliveryOf(id, e.id, (d) => d.status === 'delivered')).toMatchObject({ attempt_count: 1 });
    }
  });
});

describe('queues per subscription', () => {
  test('a slow partner (30 s per request) does not delay another partner’s deliveries', async () => {
    const slow = await partner(() => ({ status: 204, delayMs: 30_000 }));
    const fast = await partner();
    const { id: slowId } = await subscribe(slow.url);
    await subscribe(fast.url);

    const published = [];
    for (let i = 0; i < 6; i++) published.push(await events.publish());
    const delivered = await fast.waitForDeliveries(6, 15_000);
    const latencies = published.map((e) => delivered.find((r) => r.webhookId === e.id)!.at - Date.parse(e.time));
    expect(Math.max(...latencies)).toBeLessThan(3000);

    // The slow one holds as many requests as its subscription may have in flight, no more.
    expect(slow.inFlight()).toBe(2);
    expect(slow.requests).toHaveLength(2);
    const list = await api('GET', `/${slowId}/deliveries`);
    const statuses = (list.body.items as DeliveryDetails[]).map((d) => d.status).sort();
    expect(statuses).toEqual(['delivering', 'delivering', 'pending', 'pending', 'pending', 'pending']);
    // A delivery still under way is not redelivered.
    const waiting = (list.body.items as DeliveryDetails[]).find((d) => d.status === 'pending')!;
    const refused = await api('POST', `/${slowId}/deliveries/${waiting.id}/redeliver`);
    expect(refused.status).toBe(409);
    expect(refused.body.error_code).toBe('DELIVERY_NOT_FINISHED');
    expectMatchesContract('POST', '/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver', refused);
  });

  test('an ordered subscription gets one assessment’s events one at a time, in order; other assessments go on', async () => {
    const assessmentId = randomUUID();
    // The assessment's first two requests fail (its first event's, since they come in order).
    let failures = 2;
    const p = await partner((r) =>
      r.body.includes(assessmentId) && failures-- > 0 ? { status: 500 } : { status: 204 },
    );
    await subscribe(p.url, { ordered: true });
    const first = await events.publish({ assessmentId });
    const second = await events.publish({ assessmentId });
    const third = await events.publish({ assessmentId });
    const other = await events.publish();

    await p.waitForDeliveries(4);
    const succeeded = (e: { id: string }) => deliveredFor(p, e.id)[0]!;
    expect([first, second, third].map((e) => succeeded(e).at)).toEqual(
      [first, second, third].map((e) => succeeded(e).at).sort((a, b) => a - b),
    );
    expect(requestsFor(p, first.id)).toHaveLength(3); // two failures, then delivered
    // Nothing of the assessment was sent before its first event was delivered…
    for (const e of [second, third]) {
      expect(Math.min(...requestsFor(p, e.id).map((r) => r.at))).toBeGreaterThanOrEqual(succeeded(first).at);
    }
    // …while another assessment's event did not wait for it.
    expect(succeeded(other).at).toBeLessThan(succeeded(first).at);
  });
});

describe('the deliveries API', () => {
  test('a test event, one delivery, pages, and the errors', async () => {
    const p = await partner();
    const { id, secret } = await subscribe(p.url);
    const test = await api('POST', `/${id}/test`);
    expect(test.status).toBe(202);
    expectMatchesContract('POST', '/admin/webhooks/{id}/test', test);
    expect(test.body).toMatchObject({ subscription_id: id, event_type: 'webhook.test', assessment_id: null });

    const [r] = await p.waitForDeliveries(1);
    expect(r!.webhookId).toBe(test.body.webhook_id);
    const body = new Webhook(secret).verify(r!.body, headersOf(r!)) as {
      type: string;
      data: { subscription_id: string };
    };
    expect(body).toMatchObject({ type: 'webhook.test', data: { subscription_id: id } });

    const one = await eventually(async () => {
      const res = await api('GET', `/${id}/deliveries/${test.body.id}`);
      return res.body.status === 'delivered' ? res : undefined;
    });
    expectMatchesContract('GET', '/admin/webhooks/{id}/deliveries/{delivery_id}', one);
    expect(one.body.attempts).toHaveLength(1);

    const event = await events.publish();
    await deliveryOf(id, event.id);
    const page1 = await api('GET', `/${id}/deliveries?limit=1`);
    expectMatchesContract('GET', '/admin/webhooks/{id}/deliveries', page1);
    expect(page1.body.items.map((d: DeliveryDetails) => d.webhook_id)).toEqual([event.id]);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await api('GET', `/${id}/deliveries?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.items.map((d: DeliveryDetails) => d.id)).toEqual([test.body.id]);
    expect(page2.body.next_cursor).toBeNull();

    const errors: [string, string, number, string, string][] = [
      ['GET', `/${randomUUID()}/deliveries`, 404, 'WEBHOOK_SUBSCRIPTION_NOT_FOUND', '/admin/webhooks/{id}/deliveries'],
      [
        'GET',
        `/${id}/deliveries/${randomUUID()}`,
        404,
        'DELIVERY_NOT_FOUND',
        '/admin/webhooks/{id}/deliveries/{delivery_id}',
      ],
      ['GET', `/${id}/deliveries?status=lost`, 400, 'INVALID_QUERY', '/admin/webhooks/{id}/deliveries'],
      ['GET', `/${id}/deliveries?cursor=nonsense`, 400, 'INVALID_CURSOR', '/admin/webhooks/{id}/deliveries'],
      ['GET', `/${id}/deliveries?limit=0`, 400, 'INVALID_QUERY', '/admin/webhooks/{id}/deliveries'],
      ['POST', `/${randomUUID()}/test`, 404, 'WEBHOOK_SUBSCRIPTION_NOT_FOUND', '/admin/webhooks/{id}/test'],
    ];
    for (const [method, path, status, code, template] of errors) {
      const res = await api(method, path);
      expect({ path, status: res.status, code: res.body.error_code }).toEqual({ path, status, code });
      expectMatchesContract(method, template, res);
    }
    const { token } = await sys.registerAndLogin('advisor');
    const forbidden = await sys.request('GET', `/api/v1/admin/webhooks/${id}/deliveries`, { token });
    expect(forbidden.status).toBe(403);
  });
});

describe('the CLI', () => {
  test('webhooks deliveries, test, redeliver and redeliver-dead-letters', async () => {
    let fixed = false;
    const p = await partner(() => (fixed ? { status: 204 } : { status: 500 }));
    const { id } = await subscribe(p.url);
    const run = (...argv: string[]) => cli(sys.env, 'webhooks', ...argv);

    const event = await events.publish();
    const dead = await deliveryOf(id, event.id, (d) => d.status === 'dead_lettered');
    const listed = await run('deliveries', id, '--status', 'dead_lettered', '--json');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const page = JSON.parse(listed.stdout) as { items: DeliveryDetails[]; next_cursor: string | null };
    expect(page.items.map((d) => [d.id, d.attempt_count, d.attempts.length])).toEqual([[dead.id, ATTEMPTS, ATTEMPTS]]);
    const table = await run('deliveries', id);
    expect(table.stdout).toMatch(/^delivery_id\s+event_type\s+webhook_id\s+status\s+attempts\s+code/);
    expect(table.stdout).toContain(`${dead.id}  assessment.failed  ${event.id}  dead_lettered  ${ATTEMPTS}`);

    fixed = true;
    const redelivered = await run('redeliver', id, dead.id);
    expect(redelivered).toMatchObject({ code: 0, stderr: '' });
    expect(redelivered.stdout).toMatch(/^queued again: delivery .* is (pending|delivering|delivered)/);
    await deliveryOf(id, event.id, (d) => d.status === 'delivered');
    expect((await run('redeliver-dead-letters', id, '--json')).stdout).toBe('{"redelivered":0,"delivery_ids":[]}\n');

    const test = await run('test', id, '--json');
    expect(test.code).toBe(0);
    const queued = JSON.parse(test.stdout) as DeliveryDetails;
    expect(queued.event_type).toBe('webhook.test');
    await deliveryOf(id, queued.webhook_id, (d) => d.status === 'delivered');

    const unknown = await run('deliveries', randomUUID());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^microcred: Webhook subscription .* not found \(WEBHOOK_SUBSCRIPTION_NOT_FOUND\)/);
    expect((await run('deliveries', id, '--status', 'lost')).code).toBe(2);
    expect((await run('redeliver', id, queued.id)).code).toBe(0); // delivered: may be sent again
  });
});

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}
