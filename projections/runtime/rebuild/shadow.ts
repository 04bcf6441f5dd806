import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../../../services/platform/postgres/pool';

/**
 * The shadow schema of a rebuild: empty copies of the live (`public`) tables of the projections
 * being rebuilt, with the same columns, constraints, indexes (same names) and grants, plus the
 * rebuild's own `projection_offsets` and `projection_dead_letters`. The projections' SQL names
 * tables without a schema, so with `search_path = <shadow>, public` the same code fills the
 * shadow, and still reads (never writes) tables of other projections in `public`.
 *
 * Every catalog read runs under `search_path = pg_catalog`, so PostgreSQL prints every name it
 * returns (constraint and index definitions) schema-qualified: nothing resolves by accident.
 */

/** Table names the rebuild accepts: plain lowercase identifiers (they are spliced into DDL). */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function checkIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain lowercase identifier`);
  return name;
}

async function catalogTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query('SET LOCAL search_path = pg_catalog');
    return work(client);
  });
}

interface ConstraintDef {
  table: string;
  name: string;
  type: 'p' | 'u' | 'c' | 'f' | 'x';
  def: string;
}

interface IndexDef {
  table: string;
  name: string;
  def: string;
  unique: boolean;
}

async function constraintsOf(client: PoolClient, schema: string, tables: readonly string[]): Promise<ConstraintDef[]> {
  const { rows } = await client.query<ConstraintDef>(
    `SELECT t.relname AS table, c.conname AS name, c.contype AS type, pg_get_constraintdef(c.oid) AS def
     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = $1 AND t.relname = ANY($2) AND c.contype IN ('p', 'u', 'c', 'f', 'x')
     ORDER BY t.relname, c.conname`,
    [schema, tables],
  );
  return rows;
}

/** Indexes that back no constraint (those come with their constraint). */
async function indexesOf(client: PoolClient, schema: string, tables: readonly string[]): Promise<IndexDef[]> {
  const { rows } = await client.query<IndexDef>(
    `SELECT t.relname AS table, i.relname AS name, pg_get_indexdef(i.oid) AS def, x.indisunique AS unique
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = $1 AND t.relname = ANY($2)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid AND c.conrelid = t.oid)
     ORDER BY t.relname, i.relname`,
    [schema, tables],
  );
  return rows;
}

async function columnsOf(client: PoolClient, schema: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ col: string }>(
    `SELECT concat_ws(' ', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN 'NOT NULL' END, 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)) AS col
     FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND t.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schema, table],
  );
  return rows.map((r) => r.col);
}

/** `CREATE [UNIQUE] INDEX name ON public.t USING …` → the same index (same name) on `<schema>.t`. */
function indexIn(schema: string, def: string): string {
  const m = /^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON (?:ONLY )?)public\.([a-z_][a-z0-9_]*)( USING .*)$/s.exec(def);
  if (!m) throw new Error(`unexpected index definition: ${def}`);
  return `${m[1]}IF NOT EXISTS ${m[2]}${m[3]}${schema}.${m[4]}${m[5]}`;
}

/** A foreign key of a shadow table: to the shadow's copy when the referenced table is rebuilt too. */
function foreignKeyIn(schema: string, def: string, rebuilt: ReadonlySet<string>): string {
  return def.replace(/REFERENCES public\.([a-z_][a-z0-9_]*)\(/, (whole, table: string) =>
    rebuilt.has(table) ? `REFERENCES ${schema}.${table}(` : whole,
  );
}

/**
 * What forbids rebuilding these tables: a missing table, a view reading one (the swap would have
 * to drop it), a column whose default draws from a sequence the live table owns (the swap drops
 * it). Empty when they can be rebuilt.
 */
export async function rebuildProblems(pool: Pool, tables: readonly string[]): Promise<string[]> {
  return catalogTransaction(pool, async (client) => {
    const problems: string[] = [];
    const { rows: present } = await client.query<{ name: string; kind: string }>(
      `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname = ANY($1)`,
      [tables],
    );
    for (const t of tables) {
      const found = present.find((p) => p.name === t);
      if (!found) problems.push(`table public.${t} does not exist (migrations not run?)`);
      else if (found.kind !== 'r') problems.push(`public.${t} is not a plain table`);
    }
    const { rows: views } = await client.query<{ view: string; table: string }>(
      `SELECT DISTINCT v.oid::regclass::text AS view, t.relname AS table
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_depend d ON d.refobjid = t.oid AND d.classid = 'pg_rewrite'::regclass
       JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
       WHERE n.nspname = 'public' AND t.relname = ANY($1) AND v.oid <> t.oid`,
      [tables],
    );
    for (const v of views) {
      problems.push(`view ${v.view} reads public.${v.table}: a swap would have to drop it (drop it first)`);
    }
    const { rows: sequences } = await client.query<{ table: string; column: string }>(
      `SELECT t.relname AS table, a.attname AS column
       FROM pg_attrdef d JOIN pg_class t ON t.oid = d.adrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
       WHERE n.nspname = 'public' AND t.relname = ANY($1) AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'`,
      [tables],
    );
    for (const s of sequences) {
      problems.push(`public.${s.table}.${s.column} draws from a sequence (serial): not supported by rebuilds`);
    }
    return problems;
  });
}

/**
 * Creates the shadow schema in one transaction: the tables (columns and defaults), their
 * primary keys, unique and check constraints, unique indexes, foreign keys, grants, and the
 * rebuild's offsets and dead letters. Non-unique indexes wait for `createDeferredIndexes`:
 * building them once at the end is cheaper than maintaining them through the replay.
 */
export async function createShadow(pool: Pool, schema: string, tables: readonly string[]): Promise<void> {
  checkIdentifier(schema);
  tables.forEach(checkIdentifier);
  const rebuilt = new Set(tables);
  await catalogTransaction(pool, async (client) => {
    await client.query(`CREATE SCHEMA ${schema}`);
    const like = 'INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS';
    for (const t of tables) {
      const { rows } = await client.query<{ options: string[] | null }>(
        `SELECT c.reloptions AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relname = $1`,
        [t],
      );
      const options = rows[0]?.options?.length ? ` WITH (${rows[0].options.join(', ')})` : '';
      await client.query(`CREATE TABLE ${schema}.${t} (LIKE public.${t} ${like})${options}`);
    }
    const constraints = await constraintsOf(client, 'public', tables);
    for (const c of constraints.filter((k) => k.type !== 'f')) {
      await client.query(`ALTER TABLE ${schema}.${c.table} ADD CONSTRAINT ${quote(c.name)} ${c.def}`);
    }
    for (const i of (await indexesOf(client, 'public', tables)).filter((k) => k.unique)) {
      await client.query(indexIn(schema, i.def));
    }
    for (const c of constraints.filter((k) => k.type === 'f')) {
      await client.query(
        `ALTER TABLE ${schema}.${c.table} ADD CONSTRAINT ${quote(c.name)} ${foreignKeyIn(schema, c.def, rebuilt)}`,
      );
    }
    const { rows: grants } = await client.query<{ table: string; grant: string }>(
      `SELECT c.relname AS table, format('GRANT %s ON %%s TO %s%s', a.privilege_type,
                CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS grant
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
       WHERE n.nspname = 'public' AND c.relname = ANY($1) AND a.grantee <> c.relowner`,
      [tables],
    );
    for (const g of grants) await client.query(g.grant.replace('%s', `${schema}.${g.table}`));
    // What the live tables looked like, to tell at the swap whether a migration changed them since.
    const shapes: Record<string, string> = {};
    for (const t of tables) shapes[t] = await shapeOf(client, 'public', t);
    await client.query(`COMMENT ON SCHEMA ${schema} IS ${literal(JSON.stringify({ shapes }))}`);
    await client.query(`CREATE TABLE ${schema}.projection_offsets (LIKE public.projection_offsets INCLUDING ALL)`);
    // The live table's id default (its sequence) comes along: letters keep ids unique across both.
    await client.query(
      `CREATE TABLE ${schema}.projection_dead_letters (LIKE public.projection_dead_letters INCLUDING ALL)`,
    );
  });
}

/** The non-unique indexes, built once the shadow holds (nearly) everything. Idempotent. */
export async function createDeferredIndexes(pool: Pool, schema: string, tables: readonly string[]): Promise<void> {
  const indexes = await catalogTransaction(pool, (client) => indexesOf(client, 'public', tables));
  for (const i of indexes.filter((k) => !k.unique)) await pool.query(indexIn(schema, i.def));
}

/**
 * A digest of a live table's definition (columns, constraints, indexes). Compared with the one
 * taken when the shadow was made, rather than with the shadow's own definition: PostgreSQL does
 * not always print a re-created constraint as it printed the original (e.g. `IN` lists).
 */
async function shapeOf(client: PoolClient, schema: string, table: string): Promise<string> {
  const constraints = (await constraintsOf(client, schema, [table])).map((c) => `${c.name}: ${c.def}`);
  const indexes = (await indexesOf(client, schema, [table])).map((i) => i.def);
  const text = JSON.stringify({ columns: await columnsOf(client, schema, table), constraints, indexes });
  return createHash('sha256').update(text).digest('hex');
}

/** Tables whose live definition changed since the shadow was made (a migration ran meanwhile). Runs in the caller's transaction. */
export async function changedTables(client: PoolClient, schema: string, tables: readonly string[]): Promise<string[]> {
  await client.query('SET LOCAL search_path = pg_catalog');
  const { rows } = await client.query<{ comment: string | null }>(
    `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`,
    [schema],
  );
  const { shapes } = JSON.parse(rows[0]?.comment ?? '{"shapes":{}}') as { shapes: Record<string, string> };
  const changed: string[] = [];
  for (const t of tables) {
    if ((await shapeOf(client, 'public', t)) !== shapes[t]) changed.push(t);
  }
  return changed;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export interface IncomingForeignKey {
  /** The referencing table, schema-qualified. */
  source: string;
  name: string;
  def: string;
  validated: boolean;
}

/** Foreign keys from tables not being swapped to tables that are: dropped and re-made around the swap. */
export async function incomingForeignKeys(
  client: PoolClient,
  tables: readonly string[],
): Promise<IncomingForeignKey[]> {
  await client.query('SET LOCAL search_path = pg_catalog');
  const { rows } = await client.query<IncomingForeignKey>(
    `WITH swapped AS (
       SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname = ANY($1))
     SELECT k.conrelid::regclass::text AS source, k.conname AS name, pg_get_constraintdef(k.oid) AS def,
            k.convalidated AS validated
     FROM pg_constraint k
     WHERE k.contype = 'f' AND k.confrelid IN (SELECT oid FROM swapped) AND k.conrelid NOT IN (SELECT oid FROM swapped)`,
    [tables],
  );
  return rows;
}

/** The definition to re-add a foreign key with after the swap (NOT VALID: validated after the commit). */
export function notValid(def: string): string {
  return `${def.replace(/\s+NOT VALID$/, '')} NOT VALID`;
}

export async function shadowExists(pool: Pool, schema: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

export async function dropShadow(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${checkIdentifier(schema)} CASCADE`);
}

export function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
