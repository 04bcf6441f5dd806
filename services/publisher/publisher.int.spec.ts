import { KafkaConsumer as RdKafkaConsumer } from '@confluentinc/kafka-javascript';
import { Type, type Schema } from 'avsc';
import { randomUUID } from 'node:crypto';
import {
  allRequiredAnswers,
  createRoleWithQuestions,
  essayAnswer,
  roleNobodyTeaches,
  startAssessment,
  type RoleFixture,
} from '../../test/support/catalogFixture';
import { searchIndexed } from '../../test/support/demoAssessment';
import { eventually } from '../../test/support/platform';
import { spawnMicrocred, type MicrocredProcess } from '../../test/support/processes';
import { startTestSystem, type TestSystem } from '../../test/support/system';
import type { EventEnvelope } from '../messaging/envelopes';
import { MessageCodec } from '../messaging/messageCodec';
import { PartitionReader, type ReadMessage } from '../platform/kafka/kafka';
import { readPublicRecord, type PublicEvent } from './publicEvents';

jest.setTimeout(420_000);

/* eslint-disable @typescript-eslint/no-explicit-any -- HTTP bodies and the AsyncAPI document are read field by field */

// --- reading topics -----------------------------------------------------------------------------

/** Every record of a topic, read from the start of each partition until the reader is idle. */
async function readTopic(
  sys: TestSystem,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<ReadMessage[]> {
  const reader = new PartitionReader(
    new RdKafkaConsumer(
      {
        'bootstrap.servers': sys.config.KAFKA_BROKERS,
        'group.id': `${sys.config.KAFKA_CLIENT_ID}-spec-reader`,
        'isolation.level': isolation,
        'enable.auto.commit': false,
        'enable.partition.eof': true,
        'fetch.wait.max.ms': 20,
      },
      { 'auto.offset.reset': 'earliest' },
    ),
  );
  await reader.connect();
  try {
    return await readAll(reader, topic, sys.config.KAFKA_PARTITIONS);
  } finally {
    await reader.disconnect();
  }
}

async function readAll(reader: PartitionReader, topic: string, partitions: number): Promise<ReadMessage[]> {
  reader.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const messages: ReadMessage[] = [];
  for (let idle = 0; idle < 5;) {
    const batch = await reader.consume(500);
    messages.push(...batch);
    idle = batch.length === 0 ? idle + 1 : 0;
  }
  reader.unassign();
  return messages;
}

const header = (m: ReadMessage, name: string): string | undefined => m.headers[name]?.toString('utf8');

/** The internal event an assessment's public record stands for. */
async function sourceEvent(sys: TestSystem, assessmentId: string, type: string): Promise<EventEnvelope> {
  const { platform } = sys.running;
  const codec = new MessageCodec(platform.codec, platform.topics);
  const records = await readTopic(sys, platform.topics.assessment.events);
  const events = await Promise.all(records.map(async (r) => (await codec.decode<EventEnvelope>(r.value!)).value));
  const found = events.filter((e) => e.aggregate_id === assessmentId && e.type === type);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** No litter: the publisher's rows of this system's topic go with it (before its pool closes). */
async function forgetPublisherRows(sys: TestSystem): Promise<void> {
  const { pool, topics } = sys.running.platform;
  for (const table of ['public_publisher_outbox', 'public_publisher_facts', 'public_publisher_offsets']) {
    await pool.query(`DELETE FROM ${table} WHERE source_topic = $1`, [topics.assessment.events]);
  }
}

// --- driving the system -------------------------------------------------------------------------

async function resultOf(sys: TestSystem, token: string, id: string): Promise<{ status: number; body: any }> {
  return eventually(
    async () => {
      const res = await sys.request('GET', `/api/v1/assessments/${id}/result`, { token });
      return res.status === 202 ? undefined : res;
    },
    180_000,
    `the result of assessment ${id}`,
  );
}

/** Answers with texts of this run's own (so that a scan for them means something), then submits. */
function personalAnswers(role: RoleFixture, marker: string) {
  const essay = `${essayAnswer} My colleague Ada Quill-${marker} signed off the change window.`;
  const summary = `SRE at Quill Industries ${marker}, on call for the payments cluster`;
  const answers = allRequiredAnswers(role, essay).map((a) =>
    a.question_id === role.profile ? { ...a, answer: { skills: ['Terraform'], years_experience: 2, summary } } : a,
  );
  return { answers, texts: [essay, summary, `Ada Quill-${marker}`, `Quill Industries ${marker}`] };
}

async function submit(sys: TestSystem, token: string, roleId: string, responses: unknown[]): Promise<string> {
  const id = await startAssessment(sys, token, roleId);
  const res = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token,
    body: { completed: true, responses },
  });
  expect(res.status).toBe(202);
  return id;
}

// --- the public topic on a whole system ----------------------------------------------------------

describe('the public topic', () => {
  let sys: TestSystem;
  let role: RoleFixture;
  let student: { userId: string; token: string; email: string };
  let advisor: { userId: string; token: string; email: string };
  const secrets: string[] = [];
  let completedId: string;
  let failedId: string;
  let recommendationId: string;
  let records: ReadMessage[];

  beforeAll(async () => {
    sys = await startTestSystem({ PROCESSOR_POLL_MS: '100', PROCESSOR_RETRY_BASE_MS: '100' });
    role = await createRoleWithQuestions(sys);
    await searchIndexed(sys, 1);
    const glassblower = await roleNobodyTeaches(sys);
    student = await sys.registerAndLogin('student');
    advisor = await sys.registerAndLogin('advisor');
    const marker = randomUUID().slice(0, 8);
    const { answers, texts } = personalAnswers(role, marker);
    secrets.push(
      student.email,
      advisor.email,
      student.userId,
      advisor.userId,
      sys.env.BOOTSTRAP_ADMIN_EMAIL!,
      ...texts,
    );

    completedId = await submit(sys, student.token, role.roleId, answers);
    failedId = await submit(sys, student.token, glassblower.roleId, [
      { question_id: glassblower.questionId, answer: 'kubernetes' },
    ]);
    const result = await resultOf(sys, student.token, completedId);
    expect(result.status).toBe(200);
    recommendationId = result.body.recommendation_id;
    const comment = `Ask ${student.email} or call +44 20 7946 ${marker.slice(0, 4)}: great fit`;
    secrets.push(comment);
    const feedback = await sys.request('POST', `/api/v1/recommendations/${recommendationId}/feedback`, {
      token: student.token,
      body: {
        credential_id: result.body.recommendation_items[0].credential_id,
        relevance_score: 4,
        acceptance_status: 'accepted',
        comments: comment,
      },
    });
    expect(feedback.status).toBe(201);
    expect((await resultOf(sys, student.token, failedId)).status).toBe(409);

    const topic = sys.running.platform.topics.publicAssessment;
    await eventually(
      async () => ((await readTopic(sys, topic)).length >= 3 ? true : undefined),
      60_000,
      'three public records',
    );
    // A little longer: a duplicate, if there were one, would show now.
    await new Promise((r) => setTimeout(r, 3000));
    records = await readTopic(sys, topic);
  });
  afterAll(async () => {
    if (sys) await forgetPublisherRows(sys);
    await sys?.stop();
  });

  test('a completed assessment, a failed one and a feedback: one record each, CloudEvents headers, keyed by assessment id', async () => {
    const { platform } = sys.running;
    expect(records).toHaveLength(3);
    const events = await Promise.all(records.map((r) => readPublicRecord(platform.codec, r)));
    const expected = [
      { id: completedId, internal: 'AssessmentCompleted', ce_type: 'io.microcred.assessment.completed.v1' },
      {
        id: completedId,
        internal: 'RecommendationFeedbackReceived',
        ce_type: 'io.microcred.recommendation.feedback_received.v1',
      },
      { id: failedId, internal: 'AssessmentFailed', ce_type: 'io.microcred.assessment.failed.v1' },
    ];
    for (const { id, internal, ce_type } of expected) {
      const source = await sourceEvent(sys, id, internal);
      const matching = records.filter((r) => header(r, 'ce_type') === ce_type && header(r, 'ce_subject') === id);
      expect(matching).toHaveLength(1);
      const record = matching[0]!;
      expect(record.key?.toString()).toBe(id);
      expect({
        ce_specversion: header(record, 'ce_specversion'),
        ce_id: header(record, 'ce_id'),
        ce_source: header(record, 'ce_source'),
        ce_time: header(record, 'ce_time'),
        'content-type': header(record, 'content-type'),
      }).toEqual({
        ce_specversion: '1.0',
        ce_id: source.event_id,
        ce_source: `/microcred/${sys.config.KAFKA_TOPIC_PREFIX}`,
        ce_time: source.occurred_at,
        'content-type': 'application/avro',
      });
      expect(record.value![0]).toBe(0); // the Confluent wire format's magic byte
    }
    const completed = events.find((e) => e.type === 'assessment.completed')! as PublicEvent<any>;
    const result = (await resultOf(sys, student.token, completedId)).body;
    expect(completed.data).toMatchObject({
      assessment_id: completedId,
      role_id: role.roleId,
      degraded: result.degraded,
      recommendation_id: result.recommendation_id,
      recommendations: result.recommendation_items.map((i: any) => ({
        item_id: i.item_id,
        credential_id: i.credential_id,
        position: i.position,
        confidence: i.confidence,
      })),
      completed_at: result.completed_at,
    });
    expect(completed.data.scores_by_question_type.map((t: any) => t.question_type)).toEqual([
      'multiple_choice',
      'profile',
      'essay',
    ]);
    expect(completed.data.skill_scores.map((s: any) => s.skill)).toEqual(['kubernetes', 'terraform']);
    const samples = Object.fromEntries(events.map((e) => [e.type, e]));
    // The samples the report quotes (run with PUBLISHER_SAMPLES=1).
    if (process.env.PUBLISHER_SAMPLES) console.log(JSON.stringify(samples, null, 2));
    expect(samples['recommendation.feedback_received']!.data).toMatchObject({
      recommendation_id: recommendationId,
      submitted_by_role: 'student',
      relevance_score: 4,
      acceptance_status: 'accepted',
    });
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    for (const type of ['assessment.completed', 'assessment.failed', 'recommendation.feedback_received']) {
      expect(metrics).toMatch(new RegExp(`^public_events_published_total\\{type="${type}"\\} [1-9]`, 'm'));
    }
    expect(samples['assessment.failed']!.data).toMatchObject({
      assessment_id: failedId,
      reason: expect.stringContaining('no active credential'),
    });
  });

  test('order per assessment: its completed record before its feedback, on one partition', () => {
    const mine = records.filter((r) => r.key?.toString() === completedId);
    expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    expect(mine.sort((a, b) => a.offset - b.offset).map((r) => header(r, 'ce_type'))).toEqual([
      'io.microcred.assessment.completed.v1',
      'io.microcred.recommendation.feedback_received.v1',
    ]);
  });

  test('a consumer that knows only the AsyncAPI document (GET /asyncapi.json) and the registry decodes every record', async () => {
    const docs = await fetch(`${sys.url}/docs`);
    expect(await docs.text()).toContain('href="/asyncapi.json"');
    const res = await fetch(`${sys.url}/asyncapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .reduce((node: any, key: string) => node[key], doc);
    const [server] = Object.values(doc.servers) as any[];
    const [channel] = Object.values(doc.channels) as any[];
    const messages = Object.values(channel.messages).map((m: any) => (m.$ref ? resolve(m.$ref) : m));
    expect(messages).toHaveLength(3);
    const registry = server.bindings.kafka.schemaRegistryUrl as string;
    // The document's payloads are the contracts the registry holds (the latest version of each subject).
    for (const message of messages as any[]) {
      const subject = encodeURIComponent(message['x-registry-subject']);
      const latest = (await (await fetch(`${registry}/subjects/${subject}/versions/latest`)).json()) as any;
      expect(JSON.parse(latest.schema)).toEqual(message.payload.schema);
    }
    // Read with nothing but what the document says: the host, the address, the partitions.
    const reader = new PartitionReader(
      new RdKafkaConsumer(
        {
          'bootstrap.servers': server.host,
          'group.id': `${sys.config.KAFKA_CLIENT_ID}-asyncapi-reader`,
          'isolation.level': 'read_committed',
          'enable.auto.commit': false,
          'enable.partition.eof': true,
        },
        { 'auto.offset.reset': 'earliest' },
      ),
    );
    await reader.connect();
    let read: ReadMessage[];
    try {
      read = await readAll(reader, channel.address, channel.bindings.kafka.partitions);
    } finally {
      await reader.disconnect();
    }
    expect(read).toHaveLength(records.length);
    const decoded: Record<string, unknown>[] = [];
    for (const record of read) {
      const message = messages.find((m: any) => m.headers.properties.ce_type.const === header(record, 'ce_type'));
      expect(message).toBeDefined();
      for (const name of message.headers.required) expect(header(record, name)).toBeDefined();
      expect(message.payload.schemaFormat).toMatch(/^application\/vnd\.apache\.avro/);
      const value = record.value!;
      expect(value[0]).toBe(0);
      const writerRes = await fetch(`${registry}/schemas/ids/${value.readInt32BE(1)}`);
      const writer = Type.forSchema(JSON.parse(((await writerRes.json()) as { schema: string }).schema) as Schema);
      const readerType = Type.forSchema(message.payload.schema as Schema);
      const data = readerType.fromBuffer(value.subarray(5), readerType.createResolver(writer)) as Record<string, any>;
      expect(data.assessment_id).toBe(record.key!.toString());
      decoded.push(data);
    }
    const completed = decoded.find((d) => Array.isArray(d.recommendations))!;
    expect(completed.recommendation_id).toBe(recommendationId);
    // Plain Avro: an instant is epoch milliseconds.
    expect(typeof completed.completed_at).toBe('number');
  });

  test('no personal data: no email, user id, answer, essay text or comment in any record’s key, value or headers', () => {
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const record of records) {
      const bytes = Buffer.concat([
        record.key ?? Buffer.alloc(0),
        record.value ?? Buffer.alloc(0),
        ...Object.entries(record.headers).flatMap(([k, v]) => [Buffer.from(k), v]),
      ]);
      for (const secret of secrets) {
        expect({ secret, found: bytes.includes(Buffer.from(secret, 'utf8')) }).toEqual({ secret, found: false });
      }
    }
  });

  test('the publisher’s PostgreSQL state names this system’s topic and keeps no personal data', async () => {
    const { pool, topics } = sys.running.platform;
    const { rows } = await pool.query<{ facts: unknown }>(
      'SELECT facts FROM public_publisher_facts WHERE source_topic = $1',
      [topics.assessment.events],
    );
    // Both assessments ended: their facts are gone.
    expect(rows).toEqual([]);
    const outbox = await pool.query<{ record_value: Buffer; headers: unknown }>(
      'SELECT record_value, headers FROM public_publisher_outbox WHERE source_topic = $1',
      [topics.assessment.events],
    );
    const text = JSON.stringify(outbox.rows.map((r) => [r.record_value.toString('latin1'), r.headers]));
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

// --- a crash between the PostgreSQL commit and the Kafka commit ---------------------------------

describe('the publisher killed between its PostgreSQL commit and its Kafka commit', () => {
  test('the restarted publisher produces the same record once: no loss, no duplicate', async () => {
    // Deciders, projections and the API here; the processors (the publisher with them) in a child.
    const sys = await startTestSystem({ ROLES: 'api,deciders,projections' });
    const children: MicrocredProcess[] = [];
    try {
      const { platform } = sys.running;
      const processorEnv = { ...sys.env, ROLES: 'processors', PORT: '0', PROCESSOR_POLL_MS: '100' };
      const first = spawnMicrocred({
        ...processorEnv,
        INSTANCE_ID: `${sys.env.INSTANCE_ID}-p1`,
        PUBLISHER_CRASH_POINT: 'before-kafka-commit',
      });
      children.push(first);
      await first.waitFor('publisher started', 120_000);
      const role = await createRoleWithQuestions(sys);
      await searchIndexed(sys, 1);
      const student = await sys.registerAndLogin('student');
      const id = await submit(sys, student.token, role.roleId, allRequiredAnswers(role));

      // The first public record kills the child once it is kept in PostgreSQL and sent to Kafka.
      await eventually(async () => (first.child.signalCode === 'SIGKILL' ? true : undefined), 240_000, 'the crash');
      // The pipes may still hold the last lines when the exit is seen.
      await eventually(
        async () => (first.output().includes('PUBLISHER_CRASH_POINT: killing the process') ? true : undefined),
        10_000,
        'the crash point to be logged',
      );
      const completed = await sourceEvent(sys, id, 'AssessmentCompleted');
      const kept = await platform.pool.query<{ record_value: Buffer }>(
        'SELECT record_value FROM public_publisher_outbox WHERE source_topic = $1 AND event_id = $2',
        [platform.topics.assessment.events, completed.event_id],
      );
      expect(kept.rows).toHaveLength(1);
      // Sent, but in a transaction that never committed: read_committed readers see nothing.
      expect(await readTopic(sys, platform.topics.publicAssessment)).toEqual([]);
      const uncommitted = await readTopic(sys, platform.topics.publicAssessment, 'read_uncommitted');
      expect(uncommitted.map((r) => header(r, 'ce_id'))).toEqual([completed.event_id]);

      const second = spawnMicrocred({ ...processorEnv, INSTANCE_ID: `${sys.env.INSTANCE_ID}-p2` });
      children.push(second);
      const committed = await eventually(
        async () => {
          const read = await readTopic(sys, platform.topics.publicAssessment);
          return read.length > 0 ? read : undefined;
        },
        120_000,
        'the record after the restart',
      );
      // The feedback after the restart is published too, after the completed record.
      const result = await resultOf(sys, student.token, id);
      const feedback = await sys.request('POST', `/api/v1/recommendations/${result.body.recommendation_id}/feedback`, {
        token: student.token,
        body: { credential_id: result.body.recommendation_items[0].credential_id, relevance_score: 2 },
      });
      expect(feedback.status).toBe(201);
      await eventually(
        async () => ((await readTopic(sys, platform.topics.publicAssessment)).length >= 2 ? true : undefined),
        60_000,
        'the feedback record',
      );
      await new Promise((r) => setTimeout(r, 3000));
      const all = await readTopic(sys, platform.topics.publicAssessment);
      expect(all.map((r) => header(r, 'ce_type'))).toEqual([
        'io.microcred.assessment.completed.v1',
        'io.microcred.recommendation.feedback_received.v1',
      ]);
      expect(header(all[0]!, 'ce_id')).toBe(completed.event_id);
      // The same bytes as the aborted attempt: read back from the outbox, not rebuilt.
      expect(committed[0]!.value!.equals(kept.rows[0]!.record_value)).toBe(true);
      expect(all[0]!.value!.equals(uncommitted[0]!.value!)).toBe(true);
    } finally {
      await Promise.all(children.map((c) => c.kill('SIGKILL')));
      await forgetPublisherRows(sys);
      await sys.stop();
    }
  });
});
