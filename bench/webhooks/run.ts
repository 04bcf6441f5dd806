/**
 * bench/webhooks — webhook deliveries to a fast local partner while another partner is dead.
 *
 *   npm run bench:webhooks                                  # 2000 events, 20 assessments
 *   BENCH_EVENTS=5000 BENCH_ASSESSMENTS=30 BENCH_DEAD=refuse npm run bench:webhooks
 *
 * The service runs as its own OS process with every role (default settings: 16 deliveries in
 * flight, 4 per subscription, 15 s timeout, the default retry schedule). Two partners, local
 * HTTP servers in this process, subscribe to every public event type: a fast one (204 at once)
 * and a dead one (BENCH_DEAD=hang: accepts the connection and never answers, so each attempt
 * holds a slot until the timeout; refuse: nothing listens on its port).
 *
 * 1. Throughput: BENCH_EVENTS public events are produced onto the public topic at once (as the
 *    publisher writes them); deliveries per second to the fast partner (first event produced →
 *    last delivered), and each event's time → delivered.
 * 2. End to end: BENCH_ASSESSMENTS assessments (10 at a time) are completed through the API
 *    (offline scoring); the fast partner's `assessment.completed` deliveries, from the event's
 *    time (the assessment's completion) to delivered.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { schemaFor } from '../../schemas/catalog';
import { loadConfig } from '../../services/platform/config';
import { createPlatform } from '../../services/platform/platform';
import { publicSchemaNames } from '../../services/publisher/mapping';
import { publicRecordHeaders, publicSourceFor } from '../../services/publisher/publicEvents';
import { deleteWebhookRows, startPartner, type Partner } from '../../services/webhooks/delivery/testing/partners';
import {
  answerFor,
  demoRoles,
  percentile,
  pool,
  registerStudents,
  startBenchService,
  waitUntil,
  type BenchService,
  type Json,
} from '../support/service';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const ASSESSMENTS = Number(process.env.BENCH_ASSESSMENTS ?? 20);
const DEAD = process.env.BENCH_DEAD === 'refuse' ? 'refuse' : 'hang';
const ALL_TYPES = ['assessment.completed', 'assessment.failed', 'recommendation.feedback_received'];

const ms = (n: number) => `${Math.round(n)} ms`;

function latencyRow(measure: string, latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    measure,
    n: sorted.length,
    p50: ms(percentile(sorted, 50)),
    p95: ms(percentile(sorted, 95)),
    p99: ms(percentile(sorted, 99)),
    max: ms(sorted.at(-1) ?? NaN),
  };
}

async function adminToken(service: BenchService): Promise<string> {
  const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = service.env;
  let token: string | undefined;
  await waitUntil(
    async () => {
      const res = await service.http('POST', '/auth/token', { email, password });
      token = res.status === 200 ? (res.body.access_token as string) : undefined;
      return token !== undefined;
    },
    60_000,
    'the bootstrap admin',
  );
  return token!;
}

async function subscribe(service: BenchService, token: string, url: string): Promise<string> {
  const res = await service.http('POST', '/admin/webhooks', { url, event_types: ALL_TYPES }, token);
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** A dead partner: a server that never answers, or a port nothing listens on. */
async function deadPartner(): Promise<{ url: string; partner?: Partner }> {
  if (DEAD === 'hang') {
    const partner = await startPartner(() => ({ status: 204, delayMs: 3_600_000 }));
    return { url: partner.url, partner };
  }
  const probe = await startPartner();
  await probe.close();
  return { url: probe.url };
}

async function completeAssessment(service: BenchService, token: string, role: Json): Promise<string> {
  const { http } = service;
  const start = await http('POST', '/assessments/start', { role_id: role.role_id }, token);
  if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
  const id = start.body.assessment_id as string;
  const responses = (start.body.questions as Json[]).map((q) => ({ question_id: q.question_id, answer: answerFor(q) }));
  const submit = await http('POST', `/assessments/${id}/responses`, { completed: true, responses }, token);
  if (submit.status !== 202) throw new Error(`submit: ${submit.status} ${JSON.stringify(submit.body)}`);
  return id;
}

async function main() {
  const fast = await startPartner();
  const dead = await deadPartner();
  const service = await startBenchService({ env: { PROCESSOR_POLL_MS: '50' } });
  const platform = await createPlatform(loadConfig({ ...service.env, LOG_LEVEL: 'warn' }), 'bench-webhooks');
  try {
    const token = await adminToken(service);
    await subscribe(service, token, fast.url);
    const deadId = await subscribe(service, token, dead.url);
    // The deliverer reads subscriptions from their read model: let it catch up.
    await new Promise((r) => setTimeout(r, 1000));

    // 1. Throughput.
    const producer = platform.kafka.producer('bench-webhooks');
    await producer.connect();
    const topic = platform.topics.publicAssessment;
    const schema = schemaFor('public', 'public', publicSchemaNames['assessment.failed'])!.schema;
    const source = publicSourceFor(platform.config.KAFKA_TOPIC_PREFIX);
    const times = new Map<string, number>();
    const t0 = Date.now();
    const p0 = performance.now();
    for (let i = 0; i < EVENTS; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, EVENTS - i) }, async () => {
          const assessmentId = randomUUID();
          const time = new Date().toISOString();
          const data = {
            assessment_id: assessmentId,
            role_id: randomUUID(),
            role_name: 'Bench role',
            reason: 'bench',
            degraded: false,
            failed_at: time,
          };
          const value = await platform.codec.encode(topic, schema, data);
          const id = randomUUID();
          times.set(id, Date.parse(time));
          const headers = publicRecordHeaders(
            { id, type: 'assessment.failed', source, subject: assessmentId, time },
            value,
          );
          return { key: assessmentId, value, headers };
        }),
      );
      await producer.send({ topic, messages: batch });
    }
    const produced = performance.now() - p0;
    await producer.disconnect();
    await waitUntil(async () => fast.delivered().length >= EVENTS, 600_000, `${EVENTS} deliveries`);
    const deliveredAt = fast.delivered().filter((r) => times.has(r.webhookId));
    const last = Math.max(...deliveredAt.map((r) => r.at));
    const throughput = EVENTS / ((last - t0) / 1000);
    const latencies = deliveredAt.map((r) => r.at - times.get(r.webhookId)!);
    const duplicates = deliveredAt.length - new Set(deliveredAt.map((r) => r.webhookId)).size;

    // 2. End to end, from completed assessments.
    const [first] = await registerStudents(service, 1);
    const roles = await demoRoles(service, first!);
    const students = await registerStudents(service, ASSESSMENTS);
    const before = fast.delivered().length;
    const started = new Set<string>();
    await pool(ASSESSMENTS, 10, async () => {
      const i = started.size;
      started.add(await completeAssessment(service, students[i]!, roles[i % roles.length]!));
    });
    const completed = () =>
      fast
        .delivered()
        .slice(before)
        .map((r) => ({ r, body: JSON.parse(r.body) as { type: string; timestamp: string; data: Json } }))
        .filter(({ body }) => body.type === 'assessment.completed' || body.type === 'assessment.failed')
        .filter(({ body }) => started.has(body.data.assessment_id as string));
    await waitUntil(async () => completed().length >= ASSESSMENTS, 600_000, `${ASSESSMENTS} assessments delivered`);
    const endToEnd = completed()
      .filter(({ body }) => body.type === 'assessment.completed')
      .map(({ r, body }) => r.at - Date.parse(body.timestamp));

    const deadAttempts = dead.partner?.requests.length;
    const deadList = await service.http('GET', `/admin/webhooks/${deadId}/deliveries?limit=100`, undefined, token);
    const deadStatuses: Record<string, number> = {};
    for (const d of deadList.body.items as Json[])
      deadStatuses[d.status as string] = (deadStatuses[d.status as string] ?? 0) + 1;

    console.log(
      `\nbench/webhooks — ${EVENTS} public events to a fast partner, another partner dead (${DEAD}); defaults: 16 in flight, 4 per subscription, 15 s timeout`,
    );
    console.log(
      `produced ${EVENTS} events in ${ms(produced)}; delivered to the fast partner: ${throughput.toFixed(0)} deliveries/s (first produced → last delivered, ${((last - t0) / 1000).toFixed(1)} s), duplicates ${duplicates}`,
    );
    console.table([
      latencyRow('event time → delivered (produced in bulk)', latencies),
      latencyRow('assessment completed → delivered (through the API)', endToEnd),
    ]);
    console.log(
      `dead partner: ${deadAttempts ?? 'n/a (refused)'} requests received${DEAD === 'hang' ? ' (each held until the 15 s timeout)' : ''}; its latest 100 deliveries by status: ${JSON.stringify(deadStatuses)}`,
    );
    const sample = completed().find(({ body }) => body.type === 'assessment.completed');
    if (sample) {
      const shown = ['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];
      console.log('\none delivery to the fast partner, as received:');
      console.log(`POST ${new URL(fast.url).pathname}`);
      for (const name of shown) console.log(`${name}: ${String(sample.r.headers[name])}`);
      console.log(`\n${JSON.stringify(sample.body, null, 2)}\n`);
    }
    console.log(
      `throughput_per_s=${throughput.toFixed(0)} p95_ms=${Math.round(
        percentile(
          [...latencies].sort((a, b) => a - b),
          95,
        ),
      )} e2e_p95_ms=${Math.round(
        percentile(
          [...endToEnd].sort((a, b) => a - b),
          95,
        ),
      )}`,
    );
  } finally {
    await service.stop();
    // The run's delivery rows and topics go with it (the bench's prefix is its own).
    await deleteWebhookRows(platform.config);
    const prefix = `${platform.config.KAFKA_TOPIC_PREFIX}.`;
    const topics = (await platform.kafkaAdmin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await platform.kafkaAdmin.deleteTopics({ topics, timeout: 30_000 });
    await platform.close();
    await fast.close();
    await dead.partner?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
