import { endOffsets } from '../platform/kafka/admin';
import type { Admin, PartitionReader } from '../platform/kafka/kafka';
import type { MessageCodec } from '../messaging/messageCodec';
import type { EventEnvelope, StoredEvent } from '../messaging/envelopes';
import type { PartitionState } from './partitionState';

/**
 * Reads partition `partition` of the events topic from the state's offset to its end, folding
 * every committed event. It first waits until no transaction is open on the partition (last
 * stable offset = high watermark): a predecessor's in-flight transaction must resolve before
 * we decide anything, or we would decide on a state that is about to change.
 */
export async function catchUp(options: {
  admin: Admin;
  reader: PartitionReader;
  codec: MessageCodec;
  topic: string;
  partition: number;
  state: PartitionState;
  openTransactionWaitMs: number;
  isCancelled: () => boolean;
  /** Processed commands older than this are forgotten as the replay goes (keeps memory bounded). */
  idempotencyWindowMs: number;
}): Promise<{ target: number; replayed: number }> {
  const { admin, reader, codec, topic, partition, state } = options;
  const deadline = Date.now() + options.openTransactionWaitMs;
  let target: number;
  for (;;) {
    const [stable, written] = await Promise.all([
      endOffsets(admin, topic, 'committed'),
      endOffsets(admin, topic, 'written'),
    ]);
    target = stable.get(partition) ?? 0;
    if (target === (written.get(partition) ?? 0)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `partition ${topic}/${partition} still has an open transaction after ${options.openTransactionWaitMs} ms (stable ${target}, written ${written.get(partition)})`,
      );
    }
    if (options.isCancelled()) throw new Error('catch-up cancelled');
    await new Promise((r) => setTimeout(r, 100));
  }

  let replayed = 0;
  if (state.nextEventsOffset >= target) return { target, replayed };
  reader.assign([{ topic, partition, offset: state.nextEventsOffset }]);
  try {
    while ((reader.position(topic, partition) ?? state.nextEventsOffset) < target) {
      if (options.isCancelled()) throw new Error('catch-up cancelled');
      const messages = await reader.consume(2000);
      for (const m of messages) {
        if (m.offset >= target || !m.value) continue;
        const { schemaId, value } = await codec.decode<EventEnvelope>(m.value);
        const stored: StoredEvent = { ...value, topic, partition, offset: m.offset, schema_id: schemaId };
        state.replay(stored, m.timestamp);
        replayed++;
      }
      state.forgetProcessedBefore(Date.now() - options.idempotencyWindowMs);
    }
  } finally {
    reader.unassign();
  }
  return { target, replayed };
}
