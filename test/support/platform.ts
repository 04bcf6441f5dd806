import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../services/platform/config';
import { createPlatform, type Platform } from '../../services/platform/platform';

/** A platform on the local stack; `isolated` gives it topics of its own (a unique prefix). */
export async function testPlatform(
  options: { isolated?: boolean; env?: Record<string, string> } = {},
): Promise<Platform> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...options.env };
  if (options.isolated) env.KAFKA_TOPIC_PREFIX = `test-${randomUUID().slice(0, 8)}`;
  return createPlatform(loadConfig(env), 'test');
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
