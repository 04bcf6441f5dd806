import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATIONS_DIR } from '../../bootstrap/bootstrap';
import { loadConfig } from '../config';
import { loadMigrations, migrate } from './migrate';
import { createPool } from './pool';

const config = loadConfig();
const dbName = `microcred_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const adminClient = new Client({ connectionString: config.DATABASE_URL });

beforeAll(async () => {
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${dbName}`);
});
afterAll(async () => {
  await adminClient.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await adminClient.end();
});

test('migrations build the read models from an empty database, and a second run is a no-op', async () => {
  const url = new URL(config.DATABASE_URL);
  url.pathname = `/${dbName}`;
  const pool = createPool({ connectionString: url.toString(), max: 4, applicationName: 'migrate-test' });
  try {
    const migrations = loadMigrations(MIGRATIONS_DIR);
    const applied = await migrate(pool, migrations);
    expect(applied.map((m) => m.version)).toEqual(migrations.map((m) => m.version));

    const { rows } = await pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    const tables = rows.map((r) => r.table_name);
    for (const t of [
      'users',
      'role_catalog',
      'questions',
      'credential_catalog',
      'assessments',
      'assessment_question_snapshots',
      'assessment_responses',
      'rule_scores',
      'audit_logs',
      'projection_offsets',
      'schema_migrations',
    ]) {
      expect(tables).toContain(t);
    }
    // Email uniqueness is case-insensitive in the read model, as in the seed (CITEXT).
    await pool.query("INSERT INTO users (id, email, role) VALUES ($1, 'Ada@Example.com', 'student')", [randomUUID()]);
    await expect(
      pool.query("INSERT INTO users (id, email, role) VALUES ($1, 'ada@example.com', 'student')", [randomUUID()]),
    ).rejects.toThrow(/duplicate key/);

    expect(await migrate(pool, migrations)).toEqual([]);
  } finally {
    await pool.end();
  }
});

test('a migration renamed after it was applied is refused rather than silently skipped', async () => {
  const url = new URL(config.DATABASE_URL);
  url.pathname = `/${dbName}`;
  const pool = createPool({ connectionString: url.toString(), max: 2, applicationName: 'migrate-test' });
  try {
    const migrations = loadMigrations(MIGRATIONS_DIR);
    const renamed = migrations.map((m, i) => (i === 0 ? { ...m, name: 'something_else' } : m));
    await expect(migrate(pool, renamed)).rejects.toThrow(/was applied as/);
  } finally {
    await pool.end();
  }
});
