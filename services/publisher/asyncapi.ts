import { schemaCatalog, type AvroRecordSchema } from '../../schemas/catalog';
import { subjectFor } from '../platform/avro';
import { topicsFor, type Config } from '../platform/config';
import { publicSchemaNames } from './mapping';
import { PUBLIC_CONTENT_TYPE, ceTypeOf, publicEventTypes, publicSourceFor, type PublicEventType } from './publicEvents';

/**
 * The AsyncAPI 3.0 document of the public topic, generated from the public Avro contracts
 * (schemas/public/events/*.avsc, the very files the bootstrap registers) and the configuration
 * (brokers, topic prefix, partitions, registry). Served at `GET /asyncapi.json`; a partner needs
 * nothing else but the registry to read every record.
 */

export const AVRO_SCHEMA_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';
const KAFKA_BINDING = '0.5.0';

/** The AsyncAPI message id of each public type (`assessment.completed` → `assessmentCompleted`). */
export function messageIdOf(type: PublicEventType): string {
  return type.replace(/[._](\w)/g, (_, c: string) => c.toUpperCase());
}

function publicSchema(type: PublicEventType): AvroRecordSchema {
  const entry = schemaCatalog.find((e) => e.kind === 'public' && e.type === publicSchemaNames[type]);
  if (!entry) throw new Error(`No public Avro schema for ${type}`);
  return entry.schema;
}

const SUMMARIES: Record<PublicEventType, string> = {
  'assessment.completed':
    'An assessment was scored and its credentials ranked: role, points per question type and skill, overall score, degraded flag, ranked credentials with confidence.',
  'assessment.failed': 'Processing of an assessment gave up for good, with the reason.',
  'recommendation.feedback_received':
    'Someone (a role, never a person) rated a recommended credential of a completed assessment.',
};

/** CloudEvents 1.0 Kafka binding, binary mode: the attributes as headers. */
function cloudEventsHeaders(type: PublicEventType, source: string) {
  return {
    type: 'object',
    description:
      'CloudEvents 1.0 attributes (Kafka protocol binding, binary content mode): the value is the event data alone.',
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_subject', 'content-type'],
    properties: {
      ce_specversion: { type: 'string', const: '1.0', description: 'CloudEvents specification version.' },
      ce_id: {
        type: 'string',
        format: 'uuid',
        description:
          'The event id: the id of the internal event it was published for, identical if a record is ever delivered again. Deduplicate on it.',
      },
      ce_source: {
        type: 'string',
        format: 'uri-reference',
        description: 'The microcred deployment that published the event.',
        examples: [source],
      },
      ce_type: { type: 'string', const: ceTypeOf(type), description: 'The event type and its major version.' },
      ce_time: { type: 'string', format: 'date-time', description: 'When it happened (RFC 3339).' },
      ce_subject: { type: 'string', format: 'uuid', description: 'The assessment id (also the record key).' },
      'content-type': {
        type: 'string',
        const: PUBLIC_CONTENT_TYPE,
        description: 'The value: Avro in the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary).',
      },
    },
  };
}

function message(type: PublicEventType, source: string, topic: string) {
  const schema = publicSchema(type);
  return {
    name: type,
    title: schema.name,
    summary: SUMMARIES[type],
    ...(schema.doc ? { description: schema.doc } : {}),
    contentType: PUBLIC_CONTENT_TYPE,
    headers: cloudEventsHeaders(type, source),
    payload: { schemaFormat: AVRO_SCHEMA_FORMAT, schema },
    correlationId: {
      description: 'The assessment the event is about.',
      location: '$message.header#/ce_subject',
    },
    bindings: {
      kafka: {
        key: {
          type: 'string',
          format: 'uuid',
          description: 'The assessment id: all events of one assessment share a partition, in order.',
        },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
        schemaLookupStrategy: 'TopicRecordNameStrategy',
        bindingVersion: KAFKA_BINDING,
      },
    },
    'x-registry-subject': subjectFor(topic, schema),
  };
}

export type AsyncApiDocument = ReturnType<typeof asyncApiDocument>;

export function asyncApiDocument(
  config: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_TOPIC_PREFIX' | 'KAFKA_PARTITIONS' | 'SCHEMA_REGISTRY_URL'>,
) {
  const topic = topicsFor(config).publicAssessment;
  const source = publicSourceFor(config.KAFKA_TOPIC_PREFIX);
  const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
  const messages = Object.fromEntries(
    publicEventTypes.map((type) => [messageIdOf(type), message(type, source, topic)]),
  );
  const channelMessages = Object.fromEntries(
    publicEventTypes.map((type) => [messageIdOf(type), { $ref: `#/components/messages/${messageIdOf(type)}` }]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'microcred public events',
      version: '1.0.0',
      description: [
        'Events partners may consume from microcred: finished and failed assessments, and feedback on recommendations.',
        '',
        '- **One topic, keyed by assessment id**: the three types share it, so the events of one assessment are in order (its completed event before its feedback).',
        '- **CloudEvents 1.0**, Kafka protocol binding, binary mode: the attributes are `ce_*` headers, the value is the event data.',
        '- **Avro** in the Confluent wire format; each record names its writer schema by id in the registry (`schemaRegistryUrl` of the server). Contracts evolve FULL_TRANSITIVE: a new field always has a default, nothing is removed or retyped; a breaking change would be a new type (`.v2`).',
        '- **Exactly once**: records are written in Kafka transactions; read with `isolation.level=read_committed`. `ce_id` is stable: deduplicate on it if you re-read.',
        '- **No personal data**: no student id, email, answer, essay text or comment.',
      ].join('\n'),
    },
    defaultContentType: PUBLIC_CONTENT_TYPE,
    servers: {
      kafka: {
        host: brokers[0]!,
        protocol: 'kafka',
        description: `Bootstrap servers: ${brokers.join(', ')}.`,
        bindings: {
          kafka: {
            schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
            schemaRegistryVendor: 'confluent',
            bindingVersion: KAFKA_BINDING,
          },
        },
      },
    },
    channels: {
      publicAssessment: {
        address: topic,
        title: 'Public assessment events',
        description: 'Every public event, keyed by assessment id.',
        servers: [{ $ref: '#/servers/kafka' }],
        messages: channelMessages,
        bindings: {
          kafka: {
            topic,
            partitions: config.KAFKA_PARTITIONS,
            topicConfiguration: { 'cleanup.policy': ['delete'], 'retention.ms': -1, 'retention.bytes': -1 },
            bindingVersion: KAFKA_BINDING,
          },
        },
      },
    },
    operations: {
      publishPublicAssessmentEvents: {
        action: 'send',
        title: 'microcred publishes',
        summary: 'microcred publishes each public event once, in a Kafka transaction.',
        channel: { $ref: '#/channels/publicAssessment' },
        messages: publicEventTypes.map((type) => ({
          $ref: `#/channels/publicAssessment/messages/${messageIdOf(type)}`,
        })),
      },
    },
    components: { messages },
  };
}
