import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { logicalTypes } from '../../schemas/avroTypes';

export type Compatibility =
  'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

import type { AvroRecordSchema } from '../../schemas/catalog';

export type { AvroRecordSchema };

export function fullName(schema: AvroRecordSchema): string {
  return schema.namespace && !schema.name.includes('.') ? `${schema.namespace}.${schema.name}` : schema.name;
}

/** TopicRecordNameStrategy: several record types share a topic, each evolving under its own subject. */
export function subjectFor(topic: string, schema: AvroRecordSchema): string {
  return `${topic}-${fullName(schema)}`;
}

export class SchemaIncompatibleError extends Error {
  constructor(
    readonly subject: string,
    detail: string,
  ) {
    super(`Schema for ${subject} is not compatible with its registered versions: ${detail}`);
    this.name = 'SchemaIncompatibleError';
  }
}

/**
 * Avro encode/decode through a Confluent-compatible registry (Apicurio's ccompat API here).
 * Payloads carry the registry's schema id in the standard wire framing, so any Confluent
 * consumer (Java, Python, kcat) can read our topics.
 */
export class AvroCodec {
  readonly registry: SchemaRegistry;
  /** Registry id per (subject, schema text): a subject holds several versions over time. */
  private readonly ids = new Map<string, number>();
  private readonly texts = new WeakMap<AvroRecordSchema, string>();

  constructor(readonly registryUrl: string) {
    this.registry = new SchemaRegistry(
      { host: registryUrl, retry: { retries: 3, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 2 } },
      // Plain objects out (no record methods), logical types for JSON fields and instants.
      { [SchemaType.AVRO]: { logicalTypes, omitRecordMethods: true } },
    );
  }

  private readonly inFlight = new Map<string, Promise<number>>();

  /**
   * Registers (or finds) the schema under its subject and returns the registry id. Concurrent
   * calls for the same schema share one request (the registry refuses racing first registrations).
   */
  async register(topic: string, schema: AvroRecordSchema): Promise<number> {
    const subject = subjectFor(topic, schema);
    const text = this.textOf(schema);
    const key = `${subject}\u0000${text}`;
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.registry
        .register({ type: SchemaType.AVRO, schema: text }, { subject })
        .then(({ id }) => {
          this.ids.set(key, id);
          return id;
        })
        .catch((err: unknown) => {
          const status = (err as { status?: number }).status;
          throw status === 409 ? new SchemaIncompatibleError(subject, (err as Error).message) : err;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  async encode(topic: string, schema: AvroRecordSchema, value: unknown): Promise<Buffer> {
    const id =
      this.ids.get(`${subjectFor(topic, schema)}\u0000${this.textOf(schema)}`) ?? (await this.register(topic, schema));
    return this.registry.encode(id, value);
  }

  private textOf(schema: AvroRecordSchema): string {
    let text = this.texts.get(schema);
    if (text === undefined) {
      text = JSON.stringify(schema);
      this.texts.set(schema, text);
    }
    return text;
  }

  async decode<T = unknown>(payload: Buffer): Promise<{ schemaId: number; value: T }> {
    const schemaId = payload.readInt32BE(1);
    const value = (await this.registry.decode(payload)) as T;
    return { schemaId, value };
  }

  /** Sets the compatibility rule, globally or for one subject. */
  async setCompatibility(level: Compatibility, subject?: string): Promise<void> {
    const url = subject ? `${this.registryUrl}/config/${encodeURIComponent(subject)}` : `${this.registryUrl}/config`;
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
    });
    if (!res.ok) throw new Error(`Schema registry refused compatibility ${level}: ${res.status} ${await res.text()}`);
  }

  async ping(timeoutMs = 2000): Promise<void> {
    const res = await fetch(`${this.registryUrl}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  }
}
