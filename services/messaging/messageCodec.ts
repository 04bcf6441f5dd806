import { schemaCatalog, type SchemaEntry } from '../../schemas/catalog';
import type { AvroCodec, AvroRecordSchema } from '../platform/avro';
import type { Topics } from '../platform/config';
import type { CommandEnvelope, CommandReply, ContextName, EventEnvelope } from './envelopes';

/**
 * Encodes and decodes microcred's messages (commands, events, replies) as Avro through the
 * registry, choosing the schema by context and type. Unknown types are refused loudly: a
 * message we cannot describe must never reach a topic.
 */
export class MessageCodec {
  private readonly schemas = new Map<string, SchemaEntry>();

  constructor(
    private readonly avro: AvroCodec,
    private readonly topics: Topics,
    files: readonly SchemaEntry[] = schemaCatalog,
  ) {
    for (const f of files) this.schemas.set(`${f.context}/${f.kind}/${f.type}`, f);
  }

  private schema(
    context: string,
    kind: SchemaEntry['kind'],
    type: string,
  ): { topic: string; schema: AvroRecordSchema } {
    const file = this.schemas.get(`${context}/${kind}/${type}`);
    if (!file) throw new Error(`No Avro schema for ${context} ${kind} of type ${type}`);
    return { topic: topicOf(file, this.topics), schema: file.schema };
  }

  encodeCommand(context: ContextName, command: CommandEnvelope): Promise<Buffer> {
    const { topic, schema } = this.schema(context, 'commands', command.type);
    return this.avro.encode(topic, schema, command);
  }

  encodeEvent(context: ContextName, event: EventEnvelope): Promise<Buffer> {
    const { topic, schema } = this.schema(context, 'events', event.type);
    return this.avro.encode(topic, schema, event);
  }

  encodeReply(reply: CommandReply): Promise<Buffer> {
    const { topic, schema } = this.schema('replies', 'replies', 'CommandReply');
    return this.avro.encode(topic, schema, reply);
  }

  async decode<T>(payload: Buffer): Promise<{ schemaId: number; value: T }> {
    return this.avro.decode<T>(payload);
  }
}

/** The topic a schema's records are written to. */
export function topicOf(entry: Pick<SchemaEntry, 'context' | 'kind'>, topics: Topics): string {
  if (entry.kind === 'replies') return topics.replies;
  // One public topic for every public type: order per assessment holds across them.
  if (entry.kind === 'public') return topics.publicAssessment;
  const context = topics[entry.context as ContextName] as Topics[ContextName] | undefined;
  if (!context) throw new Error(`Unknown schema context ${entry.context}`);
  return context[entry.kind];
}
