import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { inTransaction } from './pool';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Versioned SQL files `NNNN_name.sql`, applied in order; a gap or duplicate is an error. */
export function loadMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`Migration file ${file} must be named NNNN_name.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`Migrations must be numbered 1..n without gaps; found ${m.version} at position ${i + 1}`);
  });
  return migrations;
}

// Any constant works; it only has to be the same for every process that migrates.
const MIGRATION_LOCK = 7_354_201;

/** Applies pending migrations, each in its own transaction, under an advisory lock. Returns those applied. */
export async function migrate(pool: Pool, migrations: Migration[]): Promise<Migration[]> {
  const lockClient = await pool.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await lockClient.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
    )`);
    const { rows } = await lockClient.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations',
    );
    const applied = new Map(rows.map((r) => [r.version, r.name]));
    const pending: Migration[] = [];
    for (const m of migrations) {
      const name = applied.get(m.version);
      if (name === undefined) pending.push(m);
      else if (name !== m.name)
        throw new Error(`Migration ${m.version} was applied as "${name}" but is now "${m.name}"`);
    }
    for (const m of pending) {
      await inTransaction(pool, async (client) => {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
    }
    return pending;
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    lockClient.release();
  }
}
