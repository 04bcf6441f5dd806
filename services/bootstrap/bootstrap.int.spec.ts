import { randomUUID } from 'node:crypto';
import { testPlatform } from '../../test/support/platform';
import { bootstrap } from './bootstrap';

jest.setTimeout(120_000);

test('replicas starting at the same instant bootstrap the same fresh topics and schemas without tripping over each other', async () => {
  const prefix = `test-boot-${randomUUID().slice(0, 8)}`;
  const replicas = await Promise.all([1, 2, 3].map(() => testPlatform({ env: { KAFKA_TOPIC_PREFIX: prefix } })));
  try {
    const results = await Promise.all(replicas.map((p) => bootstrap(p)));
    // Every replica finished: topics exist with the configured partitions (ensureTopics checks),
    // every schema is registered, under the same rule.
    expect(results).toHaveLength(3);
    expect(new Set(results.map((r) => r.schemas)).size).toBe(1);
    const topics = await replicas[0]!.kafkaAdmin.listTopics();
    expect(topics.filter((t) => t.startsWith(`${prefix}.`))).toHaveLength(9);
    const subject = `${prefix}.assessment.events-microcred.assessment.events.AssessmentStarted`;
    const res = await fetch(`${replicas[0]!.config.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(subject)}`);
    expect(await res.json()).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
  } finally {
    await Promise.all(replicas.map((p) => p.close()));
  }
});
