import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Admin } from './kafka';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topic-level configs, e.g. `{ 'retention.ms': '-1' }`. */
  config: Record<string, string>;
}

/** Creates missing topics; existing ones are left as they are (partition counts are never changed silently). */
export async function ensureTopics(
  admin: Admin,
  topics: TopicSpec[],
): Promise<{ created: string[]; existing: string[] }> {
  const present = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !present.has(t.name));
  if (missing.length > 0) {
    await admin.createTopics({
      topics: missing.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: 1,
        configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const metadata = await waitForLeaders(
    admin,
    topics.map((t) => t.name),
  );
  for (const spec of topics) {
    const actual = metadata.find((m) => m.name === spec.name)?.partitions.length;
    if (actual !== spec.partitions) {
      throw new Error(
        `Topic ${spec.name} has ${actual} partitions but ${spec.partitions} are configured; co-partitioned topics must agree (fix KAFKA_PARTITIONS or recreate the topic)`,
      );
    }
  }
  return {
    created: missing.map((t) => t.name),
    existing: topics.filter((t) => present.has(t.name)).map((t) => t.name),
  };
}

/**
 * End offsets per partition. `committed` is the last stable offset (what a read_committed
 * consumer can reach); `written` is the high watermark, which includes open transactions.
 */
export async function endOffsets(
  admin: Admin,
  topic: string,
  kind: 'committed' | 'written',
): Promise<Map<number, number>> {
  const isolationLevel =
    kind === 'committed' ? KafkaJS.IsolationLevel.READ_COMMITTED : KafkaJS.IsolationLevel.READ_UNCOMMITTED;
  const offsets = await admin.fetchTopicOffsets(topic, { isolationLevel, timeout: 10_000 });
  return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
}

/** New topics take a moment to get partition leaders; producing or listing offsets before that fails. */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      if (
        metadata.length === names.length &&
        metadata.every((m) => m.partitions.length > 0 && m.partitions.every((p) => p.leader >= 0))
      ) {
        return metadata;
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`Topics ${names.join(', ')} have no partition leaders after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
