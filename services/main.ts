import type { Server } from 'node:http';
import { createApp } from './api/app';
import { bootstrap } from './bootstrap/bootstrap';
import { ConfigError, loadConfig } from './platform/config';
import { checkReadiness } from './platform/health';
import { createPlatform } from './platform/platform';

/**
 * Composition root of the microcred process: bootstraps topics, schemas and migrations, then
 * serves the API. Stops gracefully on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const platform = await createPlatform(config, 'app');
  const { logger } = platform;
  const result = await bootstrap(platform);
  logger.info(result, 'bootstrap complete');

  const app = createApp({
    logger,
    readiness: () => checkReadiness(platform),
  });
  const server: Server = app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  logger.info({ url: `http://${config.HOST}:${config.PORT}` }, 'api listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await platform.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error('microcred failed to start:', err);
  }
  process.exit(1);
});
