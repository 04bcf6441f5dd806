import type { Consumer, Producer } from './kafka';

export interface ConsumedOffsets {
  topic: string;
  partition: number;
  /** The offset of the next message to consume (last processed + 1). */
  nextOffset: number;
}

/**
 * One consume-transform-produce step: everything `work` sends, plus the consumed offsets
 * (committed with the consumer's group metadata, KIP-447), becomes visible atomically or
 * not at all. A producer whose group generation is stale is fenced and its work aborted.
 */
export async function inTransaction<T>(
  producer: Producer,
  work: (tx: Producer) => Promise<T>,
  offsets?: { consumer: Consumer; consumed: ConsumedOffsets[] },
): Promise<T> {
  const tx = await producer.transaction();
  try {
    const result = await work(tx);
    if (offsets && offsets.consumed.length > 0) {
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const o of offsets.consumed) {
        const list = byTopic.get(o.topic) ?? [];
        list.push({ partition: o.partition, offset: String(o.nextOffset) });
        byTopic.set(o.topic, list);
      }
      await tx.sendOffsets({
        consumer: offsets.consumer,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      });
    }
    await tx.commit();
    return result;
  } catch (err) {
    if (tx.isActive()) {
      await tx.abort().catch(() => undefined);
    }
    throw err;
  }
}
