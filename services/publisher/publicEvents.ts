import { CloudEvent, Kafka, type KafkaMessage } from 'cloudevents';
import { publicEventTypes, type PublicEventType } from '../../domain/shared/publicEventTypes';
import type { AvroCodec } from '../platform/avro';

/**
 * The public events partners read from the public topic (and receive as webhooks): their
 * CloudEvents attributes and the Avro value decoded through the registry.
 *
 * Records follow the CloudEvents 1.0 Kafka protocol binding in binary mode: the value is the
 * event's data (Avro, Confluent wire format), the attributes travel as `ce_*` headers and the
 * data's media type as `content-type`. The `cloudevents` package builds and parses the headers;
 * this module only fixes our attribute values (type names, source) and decodes the Avro.
 */

export { publicEventTypes, type PublicEventType };

export interface PublicEvent<D = Record<string, unknown>> {
  /** `ce_id`: the id of the internal event it was published for; stable across re-publication. */
  id: string;
  type: PublicEventType;
  /** `ce_type`, e.g. `io.microcred.assessment.completed.v1`. */
  ce_type: string;
  source: string;
  /** `ce_subject`: the assessment id (also the record key). */
  subject: string;
  /** ISO-8601. */
  time: string;
  /** JSON-safe: instants as ISO strings. */
  data: D;
}

/** `content-type` of every public record's value. */
export const PUBLIC_CONTENT_TYPE = 'application/avro';

/** Major version of each public type's contract; a breaking change would be a new type (and subject). */
export const PUBLIC_EVENT_VERSION = 1;

/** `io.microcred.<type>.v1`. */
export function ceTypeOf(type: PublicEventType): string {
  return `io.microcred.${type}.v${PUBLIC_EVENT_VERSION}`;
}

/** The public type of a `ce_type`, or undefined for a type this build does not know. */
export function publicTypeOf(ceType: string): PublicEventType | undefined {
  return publicEventTypes.find((type) => ceTypeOf(type) === ceType);
}

/** `ce_source` of records published under a topic prefix (one deployment or test system). */
export function publicSourceFor(topicPrefix: string): string {
  return `/microcred/${topicPrefix}`;
}

/** A record of the public topic that is not a public event we can read. */
export class PublicRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublicRecordError';
  }
}

export interface PublicRecordAttributes {
  id: string;
  type: PublicEventType;
  source: string;
  subject: string;
  time: string;
}

/**
 * The Kafka headers of a public record (binary mode), built and validated by the CloudEvents SDK.
 * The SDK also writes `ce_datacontenttype`; binary mode maps that attribute to `content-type`
 * alone (Kafka binding §3.2.1, as the Java SDK does), so the duplicate is dropped.
 */
export function publicRecordHeaders(attributes: PublicRecordAttributes, value: Buffer): Record<string, string> {
  // The SDK would mint a random id for an empty one: a re-published record must keep its id.
  if (!attributes.id) throw new PublicRecordError('A public event needs the id of its source event');
  const event = new CloudEvent({
    id: attributes.id,
    type: ceTypeOf(attributes.type),
    source: attributes.source,
    subject: attributes.subject,
    time: attributes.time,
    datacontenttype: PUBLIC_CONTENT_TYPE,
    data: value,
  });
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(Kafka.binary(event).headers)) {
    if (header !== undefined && name !== 'ce_datacontenttype') headers[name] = String(header);
  }
  return headers;
}

/** Decodes one record of the public topic (value through the registry, CloudEvents headers). */
export async function readPublicRecord(
  codec: AvroCodec,
  message: { value: Buffer | null; headers: Record<string, Buffer | string | undefined> },
): Promise<PublicEvent> {
  if (!message.value) throw new PublicRecordError('A public record has no value');
  const headers: Record<string, string> = {};
  for (const [name, header] of Object.entries(message.headers)) {
    if (header !== undefined) headers[name.toLowerCase()] = Buffer.isBuffer(header) ? header.toString('utf8') : header;
  }
  let event: CloudEvent<unknown>;
  try {
    const kafkaMessage: KafkaMessage<Buffer> = { key: '', value: message.value, body: message.value, headers };
    event = Kafka.toEvent(kafkaMessage) as CloudEvent<unknown>;
    event.validate();
  } catch (err) {
    throw new PublicRecordError(`Not a CloudEvents record: ${(err as Error).message}`);
  }
  const type = publicTypeOf(event.type);
  if (!type) throw new PublicRecordError(`Unknown public event type ${event.type}`);
  if (event.datacontenttype !== PUBLIC_CONTENT_TYPE) {
    throw new PublicRecordError(`Unexpected content-type ${String(event.datacontenttype)} for ${event.type}`);
  }
  if (!event.subject || !event.time)
    throw new PublicRecordError(`${event.type} ${event.id} lacks ce_subject or ce_time`);
  const { value } = await codec.decode<Record<string, unknown>>(message.value);
  return {
    id: event.id,
    type,
    ce_type: event.type,
    source: event.source,
    subject: event.subject,
    time: event.time,
    data: value,
  };
}

/** The Standard Webhooks JSON body of a public event: { type, timestamp, data }. */
export function webhookPayload(event: PublicEvent): { type: string; timestamp: string; data: unknown } {
  return { type: event.type, timestamp: event.time, data: event.data };
}
