import { createCommandClient } from '../messaging/commandClient';
import { MessageCodec } from '../messaging/messageCodec';
import { ConfigError, loadConfig } from '../platform/config';
import { createPlatform, type Platform } from '../platform/platform';
import type { CommandBus } from '../messaging/commandBus';
import { loadDemoCatalog } from './demoCatalog';
import { CliError, importExamples } from './importExamples';

const USAGE = `usage: cli demo-catalog
       cli import-examples <question_id> <file.tsv>`;

/** Connects to the platform and a command bus for one CLI command, and closes both after it. */
async function withBus<T>(run: (platform: Platform, bus: CommandBus) => Promise<T>): Promise<T> {
  // stdout carries the result; keep the logs quiet unless asked.
  const platform = await createPlatform(
    loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }),
    'cli',
  );
  try {
    const client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'cli');
    try {
      return await run(platform, client.bus);
    } finally {
      await client.stop();
    }
  } finally {
    await platform.close();
  }
}

/**
 * `node dist/services/cli/main.js demo-catalog`: loads the demo catalog (idempotent; one JSON line).
 * `node dist/services/cli/main.js import-examples <question_id> <file.tsv>`: imports an essay
 * question's human-scored examples (header `text<TAB>score`), all or nothing.
 */
async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === 'demo-catalog' && rest.length === 0) {
    await withBus(async (platform, bus) => {
      const { created, already, roles } = await loadDemoCatalog(bus, platform.logger);
      console.log(JSON.stringify({ created, already, roles }));
    });
    return;
  }
  if (command === 'import-examples' && rest.length === 2) {
    const [questionId, file] = rest as [string, string];
    const { imported, already } = await withBus((platform, bus) =>
      importExamples({ bus, pool: platform.pool }, questionId, file),
    );
    console.log(
      already
        ? `imported ${imported} examples (this file was imported before; nothing new)`
        : `imported ${imported} examples`,
    );
    return;
  }
  console.error(USAGE);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(
    err instanceof ConfigError || err instanceof CliError
      ? err.message
      : `cli failed: ${(err as Error)?.message ?? String(err)}`,
  );
  process.exit(1);
});
