import { schemaCatalog } from '../../schemas/catalog';
import { topicOf } from '../messaging/messageCodec';
import { ensureTopics } from '../platform/kafka/admin';
import type { Platform } from '../platform/platform';
import { loadMigrations, migrate } from '../platform/postgres/migrate';
import { repoPath } from '../platform/paths';
import { topicSpecs } from './topics';

export const MIGRATIONS_DIR = repoPath('projections', 'migrations');

/**
 * Brings Kafka topics, registry schemas and PostgreSQL migrations to what this build expects.
 * Idempotent: every process may run it at start.
 */
export async function bootstrap(
  platform: Platform,
): Promise<{ topicsCreated: string[]; schemas: number; migrations: string[] }> {
  const { created } = await ensureTopics(platform.kafkaAdmin, topicSpecs(platform.topics, platform.config));
  // The global rule, and (through the codec) each new subject's own.
  await platform.codec.setCompatibility(platform.codec.compatibility);
  for (const entry of schemaCatalog) {
    await platform.codec.register(topicOf(entry, platform.topics), entry.schema);
  }
  const applied = await migrate(platform.pool, loadMigrations(MIGRATIONS_DIR));
  return {
    topicsCreated: created,
    schemas: schemaCatalog.length,
    migrations: applied.map((m) => `${m.version}_${m.name}`),
  };
}
