import { bootstrap } from '../services/bootstrap/bootstrap';
import { loadConfig } from '../services/platform/config';
import { createPlatform } from '../services/platform/platform';

/**
 * Integration suites share the local stack started by `npm test` (ops/test.sh). Bring its
 * topics, schemas and migrations up to date once, before any suite runs.
 */
export default async function globalSetup(): Promise<void> {
  const platform = await createPlatform(loadConfig({ ...process.env, LOG_LEVEL: 'warn' }), 'test-setup');
  try {
    await bootstrap(platform);
  } finally {
    await platform.close();
  }
}
