import { testPlatform } from '../../../test/support/platform';

/** Deletes every topic of a test's own prefix (`test-xxxxxxxx.`), once the test is done with them. */
export async function deleteTestTopics(prefix: string): Promise<string[]> {
  if (!/^test-[0-9a-f]{8}$/.test(prefix)) throw new Error(`refusing to delete topics of prefix ${prefix}`);
  const platform = await testPlatform();
  try {
    const topics = (await platform.kafkaAdmin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length > 0) await platform.kafkaAdmin.deleteTopics({ topics, timeout: 30_000 });
    return topics;
  } finally {
    await platform.close();
  }
}
