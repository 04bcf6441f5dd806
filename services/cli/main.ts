import { createCommandClient } from '../messaging/commandClient';
import { MessageCodec } from '../messaging/messageCodec';
import { ConfigError, loadConfig } from '../platform/config';
import { createPlatform } from '../platform/platform';
import { loadDemoCatalog } from './demoCatalog';

/** `node dist/services/cli/main.js demo-catalog`: loads the demo catalog (idempotent). */
async function main(args: string[]): Promise<void> {
  const [command] = args;
  if (command !== 'demo-catalog') {
    console.error('usage: cli demo-catalog');
    process.exit(2);
  }
  // stdout carries the result (one JSON line); keep the logs quiet unless asked.
  const platform = await createPlatform(
    loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }),
    'cli',
  );
  const client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'cli');
  try {
    const { created, already, roles } = await loadDemoCatalog(client.bus, platform.logger);
    console.log(JSON.stringify({ created, already, roles }));
  } finally {
    await client.stop();
    await platform.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `cli failed: ${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});
