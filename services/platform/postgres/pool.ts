import { Pool, type PoolClient } from 'pg';
import type { Logger } from '../logger';

export type { Pool, PoolClient };

export function createPool(options: {
  connectionString: string;
  max: number;
  applicationName: string;
  logger?: Logger;
}): Pool {
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  const connectionLost = (err: Error) =>
    options.logger?.warn(
      { err: { message: err.message, code: (err as { code?: unknown }).code } },
      'postgres connection lost',
    );
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', connectionLost);
  // pg emits a lost connection on the client itself too, and the pool listens only while the client
  // is idle: without this, a server going away mid-transaction is an unhandled 'error' that takes
  // the process down. The caller still sees it, as its query's rejection; release(err) discards it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `work` in one transaction on one client; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // After a failure the connection may be broken (e.g. the server restarted): don't pool it.
    client.release(failed);
  }
}

/** Connection-level failures (server down, restarting, overloaded), as opposed to bad SQL or data. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** True when `err` says PostgreSQL is unreachable or going away: the caller may retry later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return /connection terminated|timeout exceeded when trying to connect|connection error/i.test(String(message ?? ''));
}
