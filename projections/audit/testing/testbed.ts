import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { BoundedContext } from '../../../domain';
import type { Actor, CommandMetadata } from '../../../domain/shared/decider';
import { MIGRATIONS_DIR } from '../../../services/bootstrap/bootstrap';
import { topicSpecs } from '../../../services/bootstrap/topics';
import type { ContextName, EventEnvelope, StoredEvent } from '../../../services/messaging/envelopes';
import { MessageCodec } from '../../../services/messaging/messageCodec';
import { loadConfig } from '../../../services/platform/config';
import { endOffsets, ensureTopics } from '../../../services/platform/kafka/admin';
import type { Platform } from '../../../services/platform/platform';
import { loadMigrations, migrate } from '../../../services/platform/postgres/migrate';
import { inTransaction } from '../../../services/platform/postgres/pool';
import { eventually, testPlatform } from '../../../test/support/platform';
import type { Projection } from '../../runtime/projection';
import { ProjectionRunner } from '../../runtime/projectionRunner';
import { deleteTestTopics } from '../../../services/replay/testing/topics';

/**
 * What a projection's integration spec runs on: a fresh PostgreSQL database (migrated), topics
 * of its own on the real Kafka, the real registry, and ProjectionRunners in a consumer group of
 * their own. Shared by the projections' specs (identity, catalog, assessments, audit).
 */
export interface Testbed {
  platform: Platform;
  /** Encodes events exactly as the deciders do. */
  codec: MessageCodec;
  /** Writes events to their context's events topic, keyed (and so partitioned) by aggregate id. */
  publish(context: ContextName, events: EventEnvelope[]): Promise<void>;
  /** Starts a runner for the projection (stop it with `stopRunners`). */
  startRunner(projection: Projection): Promise<ProjectionRunner<EventEnvelope>>;
  stopRunners(): Promise<void>;
  /** Resolves once the projection has stored offsets at the end of every partition of its topics. */
  caughtUp(projection: Projection): Promise<void>;
  /** Applies one event directly, in a transaction, as a runner would (no offset bookkeeping). */
  applyDirectly(projection: Projection, event: EventEnvelope): Promise<void>;
  /** Forgets the projection's position and, with `tables`, empties those tables: a rebuild from 0. */
  reset(projection: Projection, tables?: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function createTestbed(): Promise<Testbed> {
  const base = loadConfig();
  const database = `microcred_proj_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: base.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/${database}`;

  const platform = await testPlatform({
    isolated: true,
    env: { DATABASE_URL: url.toString(), KAFKA_PARTITIONS: '3', DATABASE_POOL_MAX: '4' },
  });
  await migrate(platform.pool, loadMigrations(MIGRATIONS_DIR));
  await ensureTopics(platform.kafkaAdmin, topicSpecs(platform.topics, platform.config));
  const codec = new MessageCodec(platform.codec, platform.topics);
  const producer = platform.kafka.producer();
  await producer.connect();
  const groupPrefix = `test-proj-${randomUUID().slice(0, 8)}`;
  let runners: ProjectionRunner<EventEnvelope>[] = [];

  const testbed: Testbed = {
    platform,
    codec,
    async publish(context, events) {
      // One at a time: the registry (Apicurio) can refuse two concurrent first registrations
      // of one subject ("A rule named 'COMPATIBILITY' already exists"), and these topics are new.
      const messages = [];
      for (const event of events) {
        const value = await codec.encodeEvent(context, event);
        messages.push({ key: event.aggregate_id, value, headers: { type: event.type, event_id: event.event_id } });
      }
      await producer.send({ topic: platform.topics[context].events, messages });
    },
    async startRunner(projection) {
      const runner = new ProjectionRunner(platform, codec, projection, groupPrefix);
      runners.push(runner);
      await runner.start();
      return runner;
    },
    async stopRunners() {
      await Promise.all(runners.map((r) => r.stop()));
      runners = [];
    },
    async caughtUp(projection) {
      const topics = projection.topics(platform.topics);
      await eventually(
        async () => {
          for (const topic of topics) {
            const ends = await endOffsets(platform.kafkaAdmin, topic, 'committed');
            const { rows } = await platform.pool.query<{ partition: number; next_offset: string }>(
              'SELECT partition, next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2',
              [projection.name, topic],
            );
            const stored = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
            for (const [partition, end] of ends) {
              if (end > 0 && (stored.get(partition) ?? 0) < end) return undefined;
            }
          }
          return true;
        },
        30_000,
        `projection ${projection.name} to catch up`,
      );
    },
    async applyDirectly(projection, event) {
      const stored: StoredEvent = { ...event, topic: 'direct', partition: 0, offset: 0, schema_id: 0 };
      await inTransaction(platform.pool, (client) => projection.apply(client, stored));
    },
    async reset(projection, tables = []) {
      await inTransaction(platform.pool, async (client) => {
        await client.query('DELETE FROM projection_offsets WHERE projection = $1', [projection.name]);
        for (const table of tables) await client.query(`DELETE FROM ${table}`);
      });
    },
    async close() {
      await testbed.stopRunners();
      await producer.disconnect().catch(() => undefined);
      await platform.close();
      // Tests leave no litter: the isolated prefix's topics go too.
      await deleteTestTopics(platform.config.KAFKA_TOPIC_PREFIX);
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
  return testbed;
}

/** The instant `seconds` after 2025-03-01T09:00:00Z (events get distinct, increasing times). */
export function at(seconds: number): string {
  return new Date(Date.UTC(2025, 2, 1, 9, 0, 0) + seconds * 1000).toISOString();
}

export function commandOf<C extends { type: string; data: unknown }>(
  type: C['type'],
  data: C['data'],
  actor: Actor,
  now: string,
): C & { metadata: CommandMetadata } {
  return { type, data, metadata: { command_id: randomUUID(), now, actor } } as C & { metadata: CommandMetadata };
}

/**
 * Event streams built the way the decider runtime builds them: the real `decide` on the
 * aggregate's state, each event wrapped in an envelope with the next version.
 */
export class Streams<
  C extends { type: string; data: unknown; metadata: CommandMetadata },
  E extends { type: string; data: unknown },
  S,
> {
  private readonly aggregates = new Map<string, { state: S; version: number }>();

  constructor(private readonly context: BoundedContext<C, E, S>) {}

  /** Decides the command (throws on a domain error) and returns the events as envelopes. */
  decide(command: C): EventEnvelope[] {
    const domainEvents = this.context.decider.decide(command, this.current(this.context.aggregateIdOf(command)).state);
    return this.append(this.context.aggregateIdOf(command), domainEvents, command.metadata);
  }

  /** Appends events no command produces yet (e.g. from a later flow) to the aggregate's stream. */
  append(aggregateId: string, domainEvents: E[], metadata: CommandMetadata): EventEnvelope[] {
    const { decider } = this.context;
    const current = this.current(aggregateId);
    let state = current.state;
    const envelopes = domainEvents.map((event, i): EventEnvelope => {
      state = decider.evolve(state, event);
      return {
        event_id: randomUUID(),
        aggregate_id: aggregateId,
        aggregate_type: this.context.aggregateTypeOf(event),
        version: current.version + i + 1,
        type: event.type,
        occurred_at: metadata.now,
        actor: metadata.actor,
        correlation_id: randomUUID(),
        causation_id: metadata.command_id,
        data: event.data as Record<string, unknown>,
      };
    });
    this.aggregates.set(aggregateId, { state, version: current.version + envelopes.length });
    return envelopes;
  }

  private current(aggregateId: string): { state: S; version: number } {
    return this.aggregates.get(aggregateId) ?? { state: this.context.decider.initialState(), version: 0 };
  }
}
