import { ConfigError, loadConfig } from './platform/config';
import { startMicrocred } from './startMicrocred';

/** Process entry point: starts what ROLES names and stops gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const running = await startMicrocred(config);
  const { logger } = running.platform;
  logger.info({ url: running.url, roles: config.ROLES, instance: config.INSTANCE_ID }, 'microcred started');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(
    err instanceof ConfigError ? err.message : `microcred failed to start: ${(err as Error)?.stack ?? String(err)}`,
  );
  process.exit(1);
});
