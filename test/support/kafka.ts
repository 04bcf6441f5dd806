import { KafkaConsumer, type Message } from '@confluentinc/kafka-javascript';
import type { Platform } from '../../services/platform/platform';
import { endOffsets } from '../../services/platform/kafka/admin';

export interface Record {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer;
}

/**
 * Reads a whole topic as a consumer with the given isolation level would, up to the end
 * offsets at call time. Uses librdkafka directly so the test observes the broker, not our wrapper.
 */
export async function readTopic(
  platform: Platform,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<Record[]> {
  const ends = await endOffsets(platform.kafkaAdmin, topic, isolation === 'read_committed' ? 'committed' : 'written');
  const consumer = new KafkaConsumer(
    {
      'bootstrap.servers': platform.config.KAFKA_BROKERS,
      'group.id': `test-reader-${topic}-${Date.now()}`,
      'isolation.level': isolation,
      'enable.auto.commit': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())));
  try {
    const wanted = [...ends].filter(([, end]) => end > 0);
    consumer.assign(wanted.map(([partition]) => ({ topic, partition, offset: 0 })));
    const records: Record[] = [];
    const deadline = Date.now() + 15_000;
    const done = () =>
      wanted.every(([partition, end]) => {
        const [pos] = consumer.position([{ topic, partition }]);
        return pos !== undefined && pos.offset >= end;
      });
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}`);
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(500, (err, msgs) => (err ? reject(err) : resolve(msgs))),
      );
      for (const m of batch) {
        records.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key ? m.key.toString() : null,
          value: m.value!,
        });
      }
    }
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
