import { Webhook } from 'standardwebhooks';
import { eventually } from '../../../test/support/platform';
import { spawnMicrocred, type MicrocredProcess } from '../../../test/support/processes';
import { startTestSystem, type TestSystem } from '../../../test/support/system';
import type { PublicEvent } from '../../publisher/publicEvents';
import type { DeliveryDetails } from './deliveryAdmin';
import {
  createSubscription,
  deleteWebhookRows,
  PublicEventSource,
  startPartner,
  type Partner,
} from './testing/partners';

jest.setTimeout(180_000);

const ENV = {
  WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s',
  WEBHOOK_TIMEOUT_MS: '3000',
  PROCESSOR_POLL_MS: '50',
};

describe('the deliverer killed (SIGKILL) mid-retry', () => {
  let sys: TestSystem | undefined;
  let partner: Partner | undefined;
  let events: PublicEventSource | undefined;
  const children: MicrocredProcess[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await events?.close();
    await partner?.close();
    await sys?.stop();
    if (sys) await deleteWebhookRows(sys.config);
  });

  test('loses nothing; a delivery made again carries the same webhook-id', async () => {
    // This process decides, projects and serves; the deliverer runs in a child we can kill.
    sys = await startTestSystem({ ...ENV, ROLES: 'api,deciders,projections' });
    const deliverer = (n: number) => {
      const child = spawnMicrocred({
        ...sys!.env,
        ...ENV,
        ROLES: 'processors',
        PORT: '0',
        INSTANCE_ID: `${sys!.env.INSTANCE_ID}-d${n}`,
      });
      children.push(child);
      return child;
    };
    const first = deliverer(1);
    let up = false;
    let killed: string | undefined;
    partner = await startPartner((r) => {
      if (up) return { status: 204 };
      // One delivery's retry succeeds, and the deliverer dies as the answer leaves (it cannot
      // record it); the others fail and wait for their retry.
      if (killed === undefined && partner!.requests.filter((x) => x.webhookId === r.webhookId).length === 2) {
        killed = r.webhookId;
        setImmediate(() => first.child.kill('SIGKILL'));
        return { status: 204 };
      }
      return { status: 503 };
    });
    const { id, secret } = await createSubscription(sys, { url: partner.url, event_types: ['assessment.failed'] });
    await first.waitFor('webhook deliveries started', 90_000);

    events = new PublicEventSource(sys.running.platform);
    const published: PublicEvent[] = [];
    for (let i = 0; i < 5; i++) published.push(await events.publish());
    const ids = new Set(published.map((e) => e.id));
    await eventually(async () => (first.child.signalCode === 'SIGKILL' ? true : undefined), 30_000, 'the kill');
    const { rows } = await sys.running.platform.pool.query<{ status: string; webhook_id: string }>(
      `SELECT status, webhook_id FROM webhook_events WHERE scope = $1 AND subscription_id = $2`,
      [sys.config.KAFKA_TOPIC_PREFIX, id],
    );
    // Left behind: the others waiting, and the one answered as the deliverer died. The kill races
    // the recording of that answer: mostly the process dies first (the delivery stays under its
    // lease, which will lapse, and it is made again), sometimes it records the 204 just before.
    expect(rows).toHaveLength(5);
    const killedStatus = rows.find((r) => r.webhook_id === killed)?.status;
    expect(['delivering', 'delivered']).toContain(killedStatus);
    const madeAgain = killedStatus === 'delivering';
    for (const r of rows.filter((x) => x.webhook_id !== killed)) {
      expect(['pending', 'delivering', 'retrying']).toContain(r.status);
    }

    up = true;
    deliverer(2);
    const { body } = await eventually(
      async () => {
        const res = await sys!.request<{ items: DeliveryDetails[] }>('GET', `/api/v1/admin/webhooks/${id}/deliveries`, {
          token: await sys!.adminToken(),
        });
        return res.body.items.length === 5 && res.body.items.every((d) => d.status === 'delivered') ? res : undefined;
      },
      90_000,
      'every delivery delivered after the restart',
    );

    // Nothing lost; every request is one of the events, signed for it.
    const receiver = new Webhook(secret);
    for (const r of partner.requests) {
      expect(ids.has(r.webhookId)).toBe(true);
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
      const payload = receiver.verify(r.body, headers) as { data: { assessment_id: string } };
      expect(published.find((e) => e.id === r.webhookId)!.subject).toBe(payload.data.assessment_id);
    }
    for (const e of published) expect(partner.delivered().some((r) => r.webhookId === e.id)).toBe(true);
    // The one delivered as the deliverer died is delivered again (at least once, as the spec
    // allows): the same webhook-id and body, the partner's key to process it once. Every other
    // event reached the partner once.
    const again = partner.delivered().filter((r) => r.webhookId === killed);
    expect(again).toHaveLength(madeAgain ? 2 : 1);
    expect(new Set(again.map((r) => r.body)).size).toBe(1);
    for (const e of published.filter((x) => x.id !== killed)) {
      expect(partner.delivered().filter((r) => r.webhookId === e.id)).toHaveLength(1);
    }
    // Its attempts are on record: the one the kill interrupted (with its outcome, or without one
    // when the process died before writing it), then the one that completed the delivery.
    const interrupted = body.items.find((d) => d.webhook_id === killed)!;
    if (madeAgain) {
      expect(interrupted.attempts).toHaveLength(3);
      expect([null, 204]).toContain(interrupted.attempts[1]!.response_code);
      expect(interrupted.attempts[2]).toMatchObject({ attempt_number: 3, response_code: 204 });
    } else {
      expect(interrupted.attempts).toHaveLength(2);
      expect(interrupted.attempts[1]).toMatchObject({ attempt_number: 2, response_code: 204 });
    }
  });
});
