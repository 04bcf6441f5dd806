import { SchemaRegistry, SchemaType, type COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { logicalTypes } from '../../schemas/avroTypes';
import { withDeadline } from './deadline';

export type Compatibility =
  'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

import type { AvroRecordSchema } from '../../schemas/catalog';

export type { AvroRecordSchema };

/** Events are replayed for ever: every new schema must still read every old record, and old readers the new. */
export const EVENT_COMPATIBILITY: Compatibility = 'FULL_TRANSITIVE';

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

  /**
   * @param compatibility the rule every subject gets before its first registration (set per
   * subject as well as globally, so a subject keeps it if the global default is ever changed).
   */
  constructor(
    readonly registryUrl: string,
    readonly compatibility: Compatibility = EVENT_COMPATIBILITY,
  ) {
    this.registry = new SchemaRegistry(
      { host: registryUrl, retry: { retries: 3, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 2 } },
      // Plain objects out (no record methods), logical types for JSON fields and instants.
      { [SchemaType.AVRO]: { logicalTypes, omitRecordMethods: true } },
    );
  }

  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly fetchedIds = new Set<number>();

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
      // The rule first, then the schema: each step is idempotent, so a try that timed out
      // half-way is safe to repeat. The client library's own first-registration flow (register,
      // then set the rule) is not: a retry in between finds the subject without its rule, and
      // the client refuses it. With the rule already set, the client's check simply passes.
      pending = withRetries(async () => {
        await this.setCompatibility(this.compatibility, subject);
        return this.registry.register(
          { type: SchemaType.AVRO, schema: text },
          { subject, compatibility: this.compatibility as COMPATIBILITY },
        );
      }, `register ${subject}`)
        .then(({ id }) => {
          this.ids.set(key, id);
          return id;
        })
        .catch((err: unknown) => {
          const status = (err as { status?: number }).status;
          throw status === 409 && !isRuleRace(err) ? new SchemaIncompatibleError(subject, (err as Error).message) : err;
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
    // Only the first decode of a schema id fetches it from the registry; guard that one.
    const value = (
      this.fetchedIds.has(schemaId)
        ? await this.registry.decode(payload)
        : await withRetries(() => this.registry.decode(payload), `fetch schema ${schemaId}`)
    ) as T;
    this.fetchedIds.add(schemaId);
    return { schemaId, value };
  }

  /** Sets the compatibility rule, globally or for one subject. */
  async setCompatibility(level: Compatibility, subject?: string): Promise<void> {
    const url = subject ? `${this.registryUrl}/config/${encodeURIComponent(subject)}` : `${this.registryUrl}/config`;
    const res = await fetch(url, {
      signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
    });
    if (!res.ok) {
      const error = new Error(`Schema registry refused compatibility ${level}: ${res.status} ${await res.text()}`);
      throw Object.assign(error, { status: res.status });
    }
  }

  async ping(timeoutMs = 2000): Promise<void> {
    const res = await fetch(`${this.registryUrl}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  }
}

const REQUEST_DEADLINE_MS = 10_000;

/**
 * The registry client has no request timeout: a request the server never answers (seen once in
 * a few thousand on a fresh registry) would hang its caller for ever. Give each attempt a
 * deadline and try three times; a 4xx answer (e.g. 409 incompatible) is final.
 */
async function withRetries<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < 3; i++) {
    // Back off between tries: e.g. two processes setting a new subject's rule at one instant.
    if (i > 0) await new Promise((r) => setTimeout(r, 200 * i));
    try {
      return await withDeadline(attempt(), REQUEST_DEADLINE_MS, `schema registry (${what})`);
    } catch (err) {
      const status = (err as { status?: number }).status;
      // Two processes setting a new subject's rule at the same instant: the loser is told the
      // rule "already exists". Harmless; the next try updates it.
      if (typeof status === 'number' && status >= 400 && status < 500 && !isRuleRace(err)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

function isRuleRace(err: unknown): boolean {
  return /rule named 'COMPATIBILITY' already exists/i.test(String((err as Error).message));
}
