import type { MessageCodec } from '../../services/messaging/messageCodec';
import type { Consumer, Producer } from '../../services/platform/kafka/kafka';
import type { Logger } from '../../services/platform/logger';
import { countProjectionEvents } from '../../services/platform/metrics';
import type { Platform } from '../../services/platform/platform';
import { inTransaction } from '../../services/platform/postgres/pool';
import { applyRecords, isRegistryUnavailable, type DecodedRecord } from './applyRecords';
import { isPoison, type DeadLetterEntry } from './deadLetters';
import { storedOffsets } from './offsets';
import type { Projection } from './projection';

/**
 * Runs one projection: a consumer group over its topics whose position lives in PostgreSQL
 * (`projection_offsets`), written in the same transaction as the rows. On assignment it resumes
 * from the stored offsets, so a crash mid-batch neither loses nor repeats an event.
 */
export class ProjectionRunner<T = unknown> {
  private consumer?: Consumer;
  private readonly logger: Logger;
  private readonly listeners = new Set<() => void>();
  private deadLetterProducer?: Promise<Producer>;

  constructor(
    private readonly platform: Platform,
    private readonly codec: MessageCodec,
    readonly projection: Projection<T>,
    private readonly groupPrefix = platform.config.KAFKA_CLIENT_ID,
  ) {
    this.logger = platform.logger.child({ component: 'projection', projection: projection.name });
  }

  async start(): Promise<void> {
    const topics = this.projection.topics(this.platform.topics);
    this.consumer = this.platform.kafka.consumer(`${this.groupPrefix}-projection-${this.projection.name}`, {
      maxBatchSize: 500,
      rebalance: async (event, partitions) =>
        event === 'assign' ? storedOffsets(this.platform.pool, this.projection.name, partitions) : undefined,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics });
    await this.consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => this.handleBatch(batch.topic, batch.partition, batch.messages),
    });
    this.logger.info({ topics }, 'projection started');
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    const producer = await this.deadLetterProducer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  /** Called after every committed batch (used to wake read-your-writes waiters). */
  onProgress(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async handleBatch(
    topic: string,
    partition: number,
    messages: {
      offset: string;
      key?: Buffer | string | null;
      value: Buffer | null;
      headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
    }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const records: DecodedRecord[] = [];
    for (const m of messages) {
      if (!m.value) continue;
      const offset = Number(m.offset);
      const key = m.key == null ? null : String(m.key);
      try {
        const { schemaId, value } = this.projection.decode
          ? await this.projection.decode({
              topic,
              partition,
              offset,
              key,
              value: m.value,
              headers: singleHeaders(m.headers),
            })
          : await this.codec.decode<T>(m.value);
        records.push({
          offset,
          key,
          raw: m.value,
          event: { ...(value as Record<string, unknown>), topic, partition, offset, schema_id: schemaId },
        });
      } catch (err) {
        // The registry being unreachable is a moment, not a poison event: the batch is retried.
        if (isRegistryUnavailable(err)) throw err;
        records.push({ offset, key, raw: m.value, undecodable: err });
      }
    }
    const next = Number(messages[messages.length - 1]!.offset) + 1;
    let outcome: { applied: number; letters: DeadLetterEntry[] };
    try {
      try {
        outcome = await this.applyBatch(topic, partition, records, next, false);
      } catch (err) {
        // Some event of the batch cannot be applied: apply them one by one to find it.
        if (!isPoison(err)) throw err;
        outcome = await this.applyBatch(topic, partition, records, next, true);
      }
    } catch (err) {
      countProjectionEvents(this.projection.name, 'failed', records.length);
      this.logger.error({ err, topic, partition, from: messages[0]!.offset }, 'projection batch failed; retrying');
      await new Promise((r) => setTimeout(r, 500));
      throw err;
    }
    const { applied, letters } = outcome;
    for (const letter of letters) {
      this.logger.error(
        {
          topic,
          partition,
          offset: letter.offset,
          aggregate_id: letter.aggregate_id,
          reason: letter.reason,
          error: letter.error,
        },
        letter.reason === 'poison'
          ? 'poison event dead-lettered'
          : 'event held behind a dead-lettered event of its aggregate',
      );
    }
    countProjectionEvents(this.projection.name, 'applied', applied);
    countProjectionEvents(this.projection.name, 'dead_lettered', letters.length);
    countProjectionEvents(this.projection.name, 'skipped', records.length - applied - letters.length);
    for (const l of this.listeners) l();
  }

  /**
   * Applies the batch in one transaction with the offsets (applyRecords: the rules shared with
   * rebuilds). With `isolate`, each event runs under a savepoint and one that fails for a poison
   * reason is dead-lettered instead of failing the batch. Events of an aggregate with an open dead
   * letter are held behind it (never applied out of order).
   */
  private async applyBatch(
    topic: string,
    partition: number,
    records: DecodedRecord[],
    next: number,
    isolate: boolean,
  ): Promise<{ applied: number; letters: DeadLetterEntry[] }> {
    return inTransaction(this.platform.pool, async (client) => {
      const outcome = await applyRecords(client, this.projection, topic, partition, records, next, isolate);
      // Before the commit: if this process dies in between, the batch comes again and the topic gets
      // the same letters again (same keys), but a letter is never missing from the topic.
      if (outcome.letters.length > 0) await this.publishDeadLetters(outcome.letters);
      return outcome;
    });
  }

  /** Copies dead letters to the dead-letter topic, with their context in headers. */
  private async publishDeadLetters(letters: DeadLetterEntry[]): Promise<void> {
    if (!this.deadLetterProducer) {
      const producer = this.platform.kafka.producer(`deadletters-${this.projection.name}`);
      this.deadLetterProducer = producer.connect().then(() => producer);
    }
    const producer = await this.deadLetterProducer;
    await producer.send({
      topic: this.platform.topics.deadLetter,
      messages: letters.map((l) => ({
        // By aggregate: its letters stay in order on one partition of the dead-letter topic.
        key: l.aggregate_id,
        value: l.value,
        headers: {
          reason: l.reason,
          projection: this.projection.name,
          source_topic: l.topic,
          source_partition: String(l.partition),
          source_offset: String(l.offset),
          aggregate_id: l.aggregate_id,
          error: `${l.error.name}: ${l.error.message}`.slice(0, 500),
        },
      })),
    });
  }
}

/** Kafka headers with one value each (a repeated header keeps its last value). */
function singleHeaders(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Record<string, Buffer | string | undefined> {
  const single: Record<string, Buffer | string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) single[name] = Array.isArray(value) ? value.at(-1) : value;
  return single;
}
