import type { Config, Topics } from '../platform/config';
import type { TopicSpec } from '../platform/kafka/admin';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every topic microcred uses. Commands and events of one context are co-partitioned (same
 * count), so a decider owning partition p of the commands owns partition p of the events.
 */
export function topicSpecs(topics: Topics, config: Pick<Config, 'KAFKA_PARTITIONS'>): TopicSpec[] {
  const n = config.KAFKA_PARTITIONS;
  const forever = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' };
  const contexts = [topics.identity, topics.catalog, topics.assessment];
  return [
    ...contexts.flatMap((c) => [
      // Commands are inputs, kept for a week for audit and replays of failed batches.
      { name: c.commands, partitions: n, config: { 'retention.ms': String(7 * DAY_MS) } },
      // Events are the log of record: kept forever.
      { name: c.events, partitions: n, config: forever },
    ]),
    // Replies only matter while an API request waits for them.
    { name: topics.replies, partitions: n, config: { 'retention.ms': String(60 * 60 * 1000) } },
    // Partners and analysts replay public topics from the start.
    { name: topics.publicAssessment, partitions: n, config: forever },
    { name: topics.deadLetter, partitions: n, config: { 'retention.ms': String(30 * DAY_MS) } },
  ];
}
