import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { schemaFor } from '../../../../schemas/catalog';
import { eventually } from '../../../../test/support/platform';
import type { TestSystem } from '../../../../test/support/system';
import type { Config } from '../../../platform/config';
import type { Producer } from '../../../platform/kafka/kafka';
import type { Platform } from '../../../platform/platform';
import { publicSchemaNames } from '../../../publisher/mapping';
import { publicRecordHeaders, publicSourceFor, type PublicEvent } from '../../../publisher/publicEvents';
import { webhookSubscriptionById } from '../../../../projections/webhooks/queries';

/** One request a partner received. */
export interface PartnerRequest {
  /** When it arrived (Date.now()). */
  at: number;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (what the signature covers). */
  body: string;
  webhookId: string;
  /** The status the partner answered (once it has). */
  status?: number;
}

export interface PartnerAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the request this long before answering. */
  delayMs?: number;
}

export type Responder = (request: PartnerRequest, index: number) => PartnerAnswer;

/** A partner's webhook endpoint: a real HTTP server on 127.0.0.1 that records what it gets. */
export interface Partner {
  url: string;
  requests: PartnerRequest[];
  /** Requests being held (not answered yet). */
  inFlight(): number;
  respond(responder: Responder): void;
  /** The requests answered 2xx. */
  delivered(): PartnerRequest[];
  /** Waits until `count` requests were answered 2xx. */
  waitForDeliveries(count: number, timeoutMs?: number): Promise<PartnerRequest[]>;
  close(): Promise<void>;
}

export async function startPartner(responder: Responder = () => ({ status: 204 })): Promise<Partner> {
  let respond = responder;
  let inFlight = 0;
  const requests: PartnerRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const answer = (res: ServerResponse, request: PartnerRequest, a: PartnerAnswer) => {
    inFlight -= 1;
    // The caller hung up (it timed out, or died): no answer reached it.
    if (res.destroyed || res.req.socket?.destroyed) return;
    request.status = a.status;
    res.writeHead(a.status, a.headers).end(a.body ?? '');
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: PartnerRequest = {
        at: Date.now(),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        webhookId: String(req.headers['webhook-id'] ?? ''),
      };
      const index = requests.push(request) - 1;
      inFlight += 1;
      const a = respond(request, index);
      if (!a.delayMs) return answer(res, request, a);
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer(res, request, a);
      }, a.delayMs);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  const delivered = () => requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300);
  return {
    url,
    requests,
    inFlight: () => inFlight,
    respond: (r) => {
      respond = r;
    },
    delivered,
    waitForDeliveries: (count, timeoutMs = 30_000) =>
      eventually(
        async () => (delivered().length >= count ? delivered() : undefined),
        timeoutMs,
        `${count} deliveries at ${url} (got ${delivered().length})`,
      ),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A subscription made through the admin API, once the deliverer can see it (its read model row). */
export async function createSubscription(
  sys: TestSystem,
  body: { url: string; event_types: string[]; ordered?: boolean; description?: string },
): Promise<{ id: string; secret: string }> {
  const res = await sys.request<{ id: string; secret: string }>('POST', '/api/v1/admin/webhooks', {
    token: await sys.adminToken(),
    body,
  });
  if (res.status !== 201) throw new Error(`creating a subscription failed: ${res.status} ${JSON.stringify(res.body)}`);
  await eventually(
    () => webhookSubscriptionById(sys.running.platform.pool, res.body.id, sys.config.KAFKA_TOPIC_PREFIX),
    15_000,
    'the subscription in its read model',
  );
  return { id: res.body.id, secret: res.body.secret };
}

/** Sets a subscription's `enabled`, and waits until its read model says so. */
export async function setEnabled(sys: TestSystem, id: string, enabled: boolean): Promise<void> {
  const res = await sys.request('PATCH', `/api/v1/admin/webhooks/${id}`, {
    token: await sys.adminToken(),
    body: { enabled },
  });
  if (res.status !== 200) throw new Error(`PATCH enabled=${enabled} failed: ${res.status} ${JSON.stringify(res.body)}`);
  await eventually(async () => {
    const view = await webhookSubscriptionById(sys.running.platform.pool, id, sys.config.KAFKA_TOPIC_PREFIX);
    return view?.enabled === enabled ? true : undefined;
  });
}

/**
 * Produces public events straight onto a system's public topic, as the publisher writes them
 * (Avro through the registry, CloudEvents headers, keyed by assessment id): `assessment.failed`,
 * whose contract is the smallest.
 */
export class PublicEventSource {
  private producer?: Producer;

  constructor(private readonly platform: Platform) {}

  async publish(options: { assessmentId?: string; reason?: string; time?: Date } = {}): Promise<PublicEvent> {
    const { platform } = this;
    if (!this.producer) {
      this.producer = platform.kafka.producer('spec-public-events');
      await this.producer.connect();
    }
    const assessmentId = options.assessmentId ?? randomUUID();
    const time = (options.time ?? new Date()).toISOString();
    const data = {
      assessment_id: assessmentId,
      role_id: randomUUID(),
      role_name: 'Data analyst',
      reason: options.reason ?? 'No active credential teaches a skill of the role',
      degraded: false,
      failed_at: time,
    };
    const topic = platform.topics.publicAssessment;
    const schema = schemaFor('public', 'public', publicSchemaNames['assessment.failed'])!.schema;
    const value = await platform.codec.encode(topic, schema, data);
    const event = {
      id: randomUUID(),
      type: 'assessment.failed' as const,
      source: publicSourceFor(platform.config.KAFKA_TOPIC_PREFIX),
      subject: assessmentId,
      time,
    };
    await this.producer.send({
      topic,
      messages: [{ key: assessmentId, value, headers: publicRecordHeaders(event, value) }],
    });
    return { ...event, ce_type: 'io.microcred.assessment.failed.v1', data };
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/**
 * Removes what a stopped test system left in PostgreSQL for webhooks (its deliveries with their
 * attempts, lanes, subscriptions and their secrets): specs leave no litter.
 */
export async function deleteWebhookRows(config: Pick<Config, 'DATABASE_URL' | 'KAFKA_TOPIC_PREFIX'>): Promise<void> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  const scope = config.KAFKA_TOPIC_PREFIX;
  try {
    await pool.query(`DELETE FROM async_jobs WHERE scope = $1 AND job_type = 'webhook_delivery'`, [scope]);
    await pool.query('DELETE FROM async_job_lanes WHERE scope = $1', [scope]);
    await pool.query(
      'DELETE FROM webhook_secrets WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE scope = $1)',
      [scope],
    );
    await pool.query('DELETE FROM webhook_subscriptions WHERE scope = $1', [scope]);
  } finally {
    await pool.end();
  }
}
