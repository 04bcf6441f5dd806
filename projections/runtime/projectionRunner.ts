import type { PoolClient } from 'pg';
import type { Position } from '../../services/messaging/envelopes';
import type { MessageCodec } from '../../services/messaging/messageCodec';
import type { Consumer } from '../../services/platform/kafka/kafka';
import type { Logger } from '../../services/platform/logger';
import { countProjectionEvents } from '../../services/platform/metrics';
import type { Platform } from '../../services/platform/platform';
import { inTransaction } from '../../services/platform/postgres/pool';
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
  }

  /** Called after every committed batch (used to wake read-your-writes waiters). */
  onProgress(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async handleBatch(
    topic: string,
    partition: number,
    messages: { offset: string; value: Buffer | null }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const events: (T & Position)[] = [];
    for (const m of messages) {
      if (!m.value) continue;
      const { schemaId, value } = await this.codec.decode<T>(m.value);
      events.push({ ...value, topic, partition, offset: Number(m.offset), schema_id: schemaId });
    }
    const next = Number(messages[messages.length - 1]!.offset) + 1;
    let applied = 0;
    try {
      await inTransaction(this.platform.pool, async (client) => {
        // Lock our offset row: a second runner that briefly overlaps during a rebalance waits here,
        // then sees the batch is already applied and skips it.
        const current = await this.lockOffset(client, topic, partition);
        const fresh = events.filter((e) => e.offset >= current);
        for (const event of fresh) await this.projection.apply(client, event);
        applied = fresh.length;
        await client.query({
          name: 'projection-offset-store',
          text: `UPDATE projection_offsets SET next_offset = GREATEST(next_offset, $4), updated_at = NOW()
                 WHERE projection = $1 AND topic = $2 AND partition = $3`,
          values: [this.projection.name, topic, partition, next],
        });
      });
    } catch (err) {
      countProjectionEvents(this.projection.name, 'failed', events.length);
      this.logger.error({ err, topic, partition, from: messages[0]!.offset }, 'projection batch failed; retrying');
      await new Promise((r) => setTimeout(r, 500));
      throw err;
    }
    countProjectionEvents(this.projection.name, 'applied', applied);
    countProjectionEvents(this.projection.name, 'skipped', events.length - applied);
    for (const l of this.listeners) l();
  }

  private async lockOffset(client: PoolClient, topic: string, partition: number): Promise<number> {
    // Named statements: prepared once per connection, as these run for every batch.
    const lock = () =>
      client.query<{ next_offset: string }>({
        name: 'projection-offset-lock',
        text: 'SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
        values: [this.projection.name, topic, partition],
      });
    let { rows } = await lock();
    if (!rows[0]) {
      // The partition's first batch: create its row (an overlapping runner may be doing the same).
      await client.query(
        `INSERT INTO projection_offsets (projection, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`,
        [this.projection.name, topic, partition],
      );
      ({ rows } = await lock());
    }
    return Number(rows[0]!.next_offset);
  }
}
