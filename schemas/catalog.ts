import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The Avro schemas of microcred's messages, without reading files at run time.
 *
 * Layout under schemas/: `<context>/events/<Type>.avsc` (record `<Type>` in namespace
 * `microcred.<context>.events`), `<context>/commands/<Type>.avsc` (namespace
 * `microcred.<context>.commands`), `replies/<Type>.avsc`, and `public/events/<Type>.avsc` (the
 * public contracts partners read, namespace `io.microcred.public`). Topics carry several record types,
 * so subjects follow TopicRecordNameStrategy: `<topic>-<namespace>.<Type>`.
 *
 * The .avsc files are the only source: they are read once, when this module loads, from the
 * schemas/ folder of the repository (also when running the compiled tree under dist/).
 */

/** `public`: a public contract of the public topic (data only: no internal envelope). */
export type SchemaKind = 'events' | 'commands' | 'replies' | 'public';

/** An Avro record schema as JSON (what an .avsc file holds). */
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: { name: string; type: unknown; default?: unknown; doc?: string }[];
  [key: string]: unknown;
}

export interface SchemaEntry {
  /** `identity`, `catalog`, `assessment`, `replies`, or `public`. */
  context: string;
  kind: SchemaKind;
  /** The message type, e.g. `AssessmentStarted`; also the record name. */
  type: string;
  /** `namespace.name`, the record name used in the subject. */
  fullName: string;
  /** Path relative to schemas/. */
  path: string;
  schema: AvroRecordSchema;
}

function entryOf(path: string, schema: AvroRecordSchema): SchemaEntry {
  const parts = path.split('/');
  const type = parts[parts.length - 1]!.replace(/\.avsc$/, '');
  const fullName = schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name;
  if (parts.length === 2 && parts[0] === 'replies') {
    return { context: 'replies', kind: 'replies', type, fullName, path, schema };
  }
  if (parts.length === 3 && parts[0] === 'public' && parts[1] === 'events') {
    return { context: 'public', kind: 'public', type, fullName, path, schema };
  }
  if (parts.length === 3 && (parts[1] === 'events' || parts[1] === 'commands')) {
    return { context: parts[0]!, kind: parts[1], type, fullName, path, schema };
  }
  throw new Error(`Unexpected schema location ${path}: use <context>/<events|commands>/<Type>.avsc`);
}

function schemasDir(): string {
  // From sources: this folder. From dist/schemas: the repository's schemas/ two levels up.
  for (const dir of [__dirname, join(__dirname, '..', '..', 'schemas')]) {
    if (readdirSync(dir).some((f) => f.endsWith('.avsc') || f === 'replies')) return dir;
  }
  throw new Error(`No Avro schemas found near ${__dirname}`);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.avsc') ? [join(dir, e.name)] : []))
    .sort();
}

const root = schemasDir();

export const schemaCatalog: readonly SchemaEntry[] = walk(root).map((file) =>
  entryOf(relative(root, file).split(sep).join('/'), JSON.parse(readFileSync(file, 'utf8')) as AvroRecordSchema),
);

/** The schema of one message type, or undefined. */
export function schemaFor(context: string, kind: SchemaKind, type: string): SchemaEntry | undefined {
  return schemaCatalog.find((entry) => entry.context === context && entry.kind === kind && entry.type === type);
}
