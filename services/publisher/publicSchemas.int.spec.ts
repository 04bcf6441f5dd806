import { randomUUID } from 'node:crypto';
import { schemaCatalog, type AvroRecordSchema } from '../../schemas/catalog';
import { topicOf } from '../messaging/messageCodec';
import { AvroCodec, SchemaIncompatibleError, subjectFor } from '../platform/avro';
import { loadConfig, topicsFor } from '../platform/config';

/**
 * The public contracts in the real registry: registered FULL_TRANSITIVE under the public topic by
 * the bootstrap, and a breaking change to one is refused. Throw-away subjects (a topic name of
 * this run's own) are deleted afterwards, soft then permanently.
 */
const config = loadConfig();
const codec = new AvroCodec(config.SCHEMA_REGISTRY_URL);
const publicEntries = schemaCatalog.filter((e) => e.kind === 'public');
const scratchTopic = `test-${randomUUID().slice(0, 8)}.public.assessment`;
const scratchSubjects = new Set<string>();

async function deleteSubject(subject: string): Promise<void> {
  const url = `${config.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}`;
  await fetch(url, { method: 'DELETE' });
  await fetch(`${url}?permanent=true`, { method: 'DELETE' });
}

afterAll(async () => {
  for (const subject of scratchSubjects) await deleteSubject(subject);
  const left = (await (await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects`)).json()) as string[];
  expect(left.filter((s) => s.startsWith(scratchTopic))).toEqual([]);
});

const register = (schema: AvroRecordSchema) => {
  scratchSubjects.add(subjectFor(scratchTopic, schema));
  return codec.register(scratchTopic, schema);
};

test('the bootstrap registered every public contract under the public topic, FULL_TRANSITIVE', async () => {
  const topics = topicsFor(config);
  expect(publicEntries).toHaveLength(3);
  for (const entry of publicEntries) {
    expect(topicOf(entry, topics)).toBe(topics.publicAssessment);
    const subject = subjectFor(topics.publicAssessment, entry.schema);
    const rule = await fetch(`${config.SCHEMA_REGISTRY_URL}/config/${encodeURIComponent(subject)}`);
    expect(await rule.json()).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
    const latest = await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions/latest`);
    expect(latest.status).toBe(200);
    const registered = JSON.parse(((await latest.json()) as { schema: string }).schema) as AvroRecordSchema;
    expect(registered.name).toBe(entry.schema.name);
    expect(registered.fields.map((f) => f.name)).toEqual(entry.schema.fields.map((f) => f.name));
  }
});

describe.each(publicEntries.map((e) => [e.type, e.schema] as const))('%s', (_type, schema) => {
  const withFields = (fields: AvroRecordSchema['fields']): AvroRecordSchema => ({ ...schema, fields });

  test('removing a field without a default is refused by the registry', async () => {
    await register(schema);
    await expect(register(withFields(schema.fields.slice(1)))).rejects.toBeInstanceOf(SchemaIncompatibleError);
  });

  test('changing a field’s type is refused', async () => {
    await register(schema);
    const [first, ...rest] = schema.fields;
    await expect(register(withFields([{ ...first!, type: 'long' }, ...rest]))).rejects.toBeInstanceOf(
      SchemaIncompatibleError,
    );
  });

  test('adding a field without a default is refused; with a default it is accepted (the rule is not "refuse all")', async () => {
    await register(schema);
    const added = { name: 'partner_note', type: 'string', doc: 'A new field.' };
    await expect(register(withFields([...schema.fields, added]))).rejects.toBeInstanceOf(SchemaIncompatibleError);
    const id = await register(withFields([...schema.fields, { ...added, type: ['null', 'string'], default: null }]));
    expect(id).toBeGreaterThan(0);
  });
});
