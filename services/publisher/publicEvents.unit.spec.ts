import type { AvroCodec } from '../platform/avro';
import {
  PublicRecordError,
  ceTypeOf,
  publicEventTypes,
  publicRecordHeaders,
  publicSourceFor,
  publicTypeOf,
  readPublicRecord,
  webhookPayload,
} from './publicEvents';

const value = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);
const data = { assessment_id: '52ca37d4-f66a-40d3-bca1-c35411cea2b9', degraded: false };
/** The registry's part is not under test here: the value decodes to `data`. */
const codec = { decode: async () => ({ schemaId: 7, value: data }) } as unknown as AvroCodec;
const attributes = {
  id: '935e6bcb-925b-5bd9-95fd-5150e60120ef',
  type: 'assessment.completed' as const,
  source: publicSourceFor('microcred'),
  subject: data.assessment_id,
  time: '2026-12-07T18:13:24.756Z',
};

describe('public events: CloudEvents binary mode over Kafka', () => {
  test('the headers of a record: the CloudEvents attributes, content-type, nothing else', () => {
    expect(publicRecordHeaders(attributes, value)).toEqual({
      ce_specversion: '1.0',
      ce_id: attributes.id,
      ce_source: '/microcred/microcred',
      ce_type: 'io.microcred.assessment.completed.v1',
      ce_time: attributes.time,
      ce_subject: data.assessment_id,
      'content-type': 'application/avro',
    });
  });

  test('attributes CloudEvents refuses are refused', () => {
    expect(() => publicRecordHeaders({ ...attributes, source: '' }, value)).toThrow();
    expect(() => publicRecordHeaders({ ...attributes, time: 'yesterday' }, value)).toThrow();
    // Never a random id (the SDK's default): a re-published record keeps its source event's id.
    expect(() => publicRecordHeaders({ ...attributes, id: '' }, value)).toThrow(PublicRecordError);
  });

  test('a record reads back as the public event (headers as Kafka gives them: Buffers)', async () => {
    const headers = Object.fromEntries(
      Object.entries(publicRecordHeaders(attributes, value)).map(([k, v]) => [k, Buffer.from(v)]),
    );
    const event = await readPublicRecord(codec, { value, headers });
    expect(event).toEqual({ ...attributes, ce_type: 'io.microcred.assessment.completed.v1', data });
    expect(webhookPayload(event)).toEqual({ type: 'assessment.completed', timestamp: attributes.time, data });
  });

  test('what is not a public event we know is a PublicRecordError', async () => {
    const headers = publicRecordHeaders(attributes, value);
    const read = (h: Record<string, string | undefined>, v: Buffer | null = value) =>
      readPublicRecord(codec, { value: v, headers: h });
    await expect(read(headers, null)).rejects.toBeInstanceOf(PublicRecordError);
    await expect(read({ ...headers, ce_type: 'io.microcred.assessment.completed.v2' })).rejects.toBeInstanceOf(
      PublicRecordError,
    );
    await expect(read({ ...headers, 'content-type': 'application/json' })).rejects.toBeInstanceOf(PublicRecordError);
    await expect(read({ ...headers, ce_subject: undefined })).rejects.toBeInstanceOf(PublicRecordError);
    await expect(read({})).rejects.toBeInstanceOf(PublicRecordError);
  });

  test('every public type has its versioned ce_type, and back', () => {
    for (const type of publicEventTypes) expect(publicTypeOf(ceTypeOf(type))).toBe(type);
    expect(ceTypeOf('recommendation.feedback_received')).toBe('io.microcred.recommendation.feedback_received.v1');
    expect(publicTypeOf('io.microcred.assessment.started.v1')).toBeUndefined();
  });
});
