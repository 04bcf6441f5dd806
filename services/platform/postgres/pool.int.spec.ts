import { loadConfig } from '../config';
import { createPool, inTransaction, isDatabaseUnavailable } from './pool';

/**
 * A connection lost while a client is checked out of the pool (mid-transaction, between two
 * queries) must reach the caller as a rejected promise, never as an unhandled 'error' event that
 * takes the process down. pg emits that event on the client itself, and the pool listens only
 * while the client is idle. Terminating our own backend reproduces a server going away.
 */
const config = loadConfig();

test('a connection lost mid-transaction rejects the transaction as unavailable, and the pool recovers', async () => {
  const pool = createPool({ connectionString: config.DATABASE_URL, max: 2, applicationName: 'pool-test' });
  try {
    const outcome = inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // From another connection, as a server shutdown would: FATAL 57P01, then the socket closes.
      await pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      // Give the termination time to arrive while this client holds no active query.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.query('SELECT 1');
    });
    const err = await outcome.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(err)).toBe(true);

    // The broken client was discarded, not pooled: the next query gets a working connection.
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
  } finally {
    await pool.end();
  }
});
