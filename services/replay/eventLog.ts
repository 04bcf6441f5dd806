import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { ContextName, EventEnvelope, StoredEvent } from '../messaging/envelopes';
import type { MessageCodec } from '../messaging/messageCodec';
import type { Topics } from '../platform/config';
import type { Admin, KafkaClients, PartitionReader, ReadMessage } from '../platform/kafka/kafka';
import { partitionForKey } from './murmur2';

/** An event as read back from its topic, with the broker's timestamp of the record (ms). */
export type LoggedEvent = StoredEvent & { timestamp: number | undefined };

export const CONTEXTS: readonly ContextName[] = ['identity', 'catalog', 'assessment'];

/** One partition to read, from `from` (inclusive) to `to` (exclusive: the last stable offset when the read began). */
export interface PartitionRange {
  topic: string;
  partition: number;
  from: number;
  to: number;
}

/** Where a read stands, for progress reports: offsets covered so far out of the total to cover. */
export interface ReadProgress {
  done: number;
  total: number;
}

const BATCH = 500;
/** A read that makes no progress for this long has lost its broker: fail instead of hanging. */
const STALL_MS = 30_000;

/**
 * Reads microcred's event topics back, record by record, in constant memory: one partition at a
 * time, in batches of at most 500, the next batch fetched only when the caller asks (an async
 * generator: a slow consumer slows the read). Only committed records are read
 * (read_committed), up to the last stable offset taken when the read begins.
 */
export class EventLog {
  constructor(private readonly deps: { admin: Admin; reader: PartitionReader; codec: MessageCodec; topics: Topics }) {}

  /** Opens a log over its own reader (disconnect it with `close`). */
  static async open(platform: {
    kafka: KafkaClients;
    kafkaAdmin: Admin;
    topics: Topics;
    codec: MessageCodec;
    name: string;
  }): Promise<EventLog> {
    const reader = platform.kafka.partitionReader(platform.name);
    await reader.connect();
    return new EventLog({ admin: platform.kafkaAdmin, reader, codec: platform.codec, topics: platform.topics });
  }

  close(): Promise<void> {
    return this.deps.reader.disconnect();
  }

  eventsTopic(context: ContextName): string {
    return this.deps.topics[context].events;
  }

  /** The ranges covering whole topics (or, given a key, the one partition holding that key's records). */
  async ranges(topics: readonly string[], key?: string): Promise<PartitionRange[]> {
    const out: PartitionRange[] = [];
    for (const topic of topics) {
      const offsets = await this.deps.admin.fetchTopicOffsets(topic, {
        isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED,
        timeout: 10_000,
      });
      const byPartition = new Map(offsets.map((o) => [o.partition, o]));
      const wanted =
        key === undefined ? [...byPartition.keys()].sort((a, b) => a - b) : [partitionForKey(key, byPartition.size)];
      for (const partition of wanted) {
        const o = byPartition.get(partition);
        // `offset` is the last stable offset under read_committed; `low` the log start (after retention).
        out.push({ topic, partition, from: Number(o?.low ?? 0), to: Number(o?.offset ?? 0) });
      }
    }
    return out;
  }

  /** Raw records of one range, batch by batch. */
  async *records(range: PartitionRange): AsyncGenerator<ReadMessage[]> {
    const { reader } = this.deps;
    const { topic, partition, to } = range;
    if (range.from >= to) return;
    reader.assign([{ topic, partition, offset: range.from }]);
    try {
      let lastProgress = Date.now();
      let position = range.from;
      while (position < to) {
        const batch = (await reader.consume(BATCH)).filter((m) => m.offset < to);
        // The reader's position moves past transaction markers too, which carry no record.
        const next = Math.max(position, reader.position(topic, partition) ?? position);
        if (batch.length > 0 || next > position) lastProgress = Date.now();
        else if (Date.now() - lastProgress > STALL_MS) {
          throw new Error(
            `reading ${topic}/${partition} made no progress for ${STALL_MS / 1000} s (at offset ${position} of ${to})`,
          );
        }
        position = next;
        if (batch.length > 0) yield batch;
      }
    } finally {
      reader.unassign();
    }
  }

  /**
   * Counts the committed records of several ranges at once (one reader assigned to all of them,
   * so the wait for a first fetch is paid once), with the broker timestamp of each range's first
   * record. A range with `limit` records or more stops being counted (`exact: false`).
   */
  async count(
    ranges: readonly PartitionRange[],
    limit: number,
  ): Promise<Map<string, { count: number; first: number | undefined; exact: boolean }>> {
    const { reader } = this.deps;
    const key = (topic: string, partition: number) => `${topic}|${partition}`;
    const out = new Map(
      ranges.map((r) => [key(r.topic, r.partition), { count: 0, first: undefined as number | undefined, exact: true }]),
    );
    const open = ranges.filter((r) => r.from < r.to);
    if (open.length === 0) return out;
    reader.assign(open.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.from })));
    try {
      let lastProgress = Date.now();
      const pending = new Map(open.map((r) => [key(r.topic, r.partition), r]));
      while (pending.size > 0) {
        const batch = await reader.consume(BATCH);
        if (batch.length > 0) lastProgress = Date.now();
        for (const m of batch) {
          const range = pending.get(key(m.topic, m.partition));
          const result = out.get(key(m.topic, m.partition))!;
          if (!range || m.offset >= range.to || !result.exact) continue;
          result.first ??= m.timestamp;
          if (++result.count >= limit) result.exact = false;
        }
        for (const [k, r] of pending) {
          const position = reader.position(r.topic, r.partition);
          if (!out.get(k)!.exact || (position !== undefined && position >= r.to)) {
            pending.delete(k);
            lastProgress = Date.now();
          }
        }
        if (pending.size > 0 && Date.now() - lastProgress > STALL_MS) {
          throw new Error(
            `counting records of ${[...pending.keys()].join(', ')} made no progress for ${STALL_MS / 1000} s`,
          );
        }
      }
    } finally {
      reader.unassign();
    }
    return out;
  }

  /** Decoded events of the given ranges, in partition order then offset order. */
  async *events(
    ranges: readonly PartitionRange[],
    onProgress?: (p: ReadProgress) => void,
  ): AsyncGenerator<LoggedEvent> {
    const total = ranges.reduce((sum, r) => sum + Math.max(0, r.to - r.from), 0);
    let before = 0;
    for (const range of ranges) {
      for await (const batch of this.records(range)) {
        for (const m of batch) {
          if (!m.value) continue;
          let decoded: { schemaId: number; value: EventEnvelope };
          try {
            decoded = await this.deps.codec.decode<EventEnvelope>(m.value);
          } catch (err) {
            throw new Error(`cannot decode ${m.topic}/${m.partition}@${m.offset}: ${(err as Error).message}`, {
              cause: err,
            });
          }
          yield {
            ...decoded.value,
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            schema_id: decoded.schemaId,
            timestamp: m.timestamp,
          };
        }
        const last = batch[batch.length - 1]!;
        onProgress?.({ done: before + (last.offset + 1 - range.from), total });
      }
      before += Math.max(0, range.to - range.from);
      onProgress?.({ done: before, total });
    }
  }

  /** Every event of one aggregate, oldest first: the one partition its key maps to, scanned from the start. */
  async *aggregate(context: ContextName, aggregateId: string): AsyncGenerator<LoggedEvent> {
    for await (const event of this.events(await this.ranges([this.eventsTopic(context)], aggregateId))) {
      if (event.aggregate_id === aggregateId) yield event;
    }
  }
}
