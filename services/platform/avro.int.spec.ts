import { randomUUID } from 'node:crypto';
import { loadConfig } from './config';
import { AvroCodec, SchemaIncompatibleError, subjectFor, type AvroRecordSchema } from './avro';

const codec = new AvroCodec(loadConfig().SCHEMA_REGISTRY_URL);
const topic = `test-avro-${randomUUID().slice(0, 8)}`;

const v1: AvroRecordSchema = {
  type: 'record',
  name: 'ThingHappened',
  namespace: 'microcred.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'count', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

test('a record round-trips through the registry with the Confluent wire framing', async () => {
  const value = { id: randomUUID(), count: 42, note: 'hello' };
  const bytes = await codec.encode(topic, v1, value);
  expect(bytes[0]).toBe(0); // magic byte
  const { schemaId, value: decoded } = await codec.decode(bytes);
  expect(decoded).toEqual(value);
  expect(schemaId).toBe(await codec.register(topic, v1));
});

test('a compatible evolution (new optional field) is accepted and old records still decode', async () => {
  const old = await codec.encode(topic, v1, { id: 'a', count: 1, note: null });
  const v2: AvroRecordSchema = {
    ...v1,
    fields: [...v1.fields, { name: 'tags', type: { type: 'array', items: 'string' }, default: [] }],
  };
  const id2 = await codec.register(topic, v2);
  expect(id2).not.toBe(await codec.register(topic, v1));
  const fresh = await codec.decode(await codec.encode(topic, v2, { id: 'b', count: 2, note: null, tags: ['x'] }));
  expect(fresh.value).toEqual({ id: 'b', count: 2, note: null, tags: ['x'] });
  expect((await codec.decode(old)).value).toEqual({ id: 'a', count: 1, note: null });
});

test('a breaking change (required field added, type changed) is refused by the registry', async () => {
  await codec.register(topic, v1);
  const breaking: AvroRecordSchema = {
    ...v1,
    fields: [
      { name: 'id', type: 'string' },
      { name: 'count', type: 'string' },
      { name: 'owner', type: 'string' },
    ],
  };
  await expect(codec.register(topic, breaking)).rejects.toBeInstanceOf(SchemaIncompatibleError);
});

test('every subject gets the event rule (FULL_TRANSITIVE) of its own', async () => {
  await codec.register(topic, v1);
  const res = await fetch(`${codec.registryUrl}/config/${encodeURIComponent(subjectFor(topic, v1))}`);
  expect(await res.json()).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
});

test('a subject left without its rule (a registration cut off half-way) is taken over, not refused', async () => {
  // What another process leaves behind if it dies, or its answer is lost, right after
  // registering a new subject's first version: the schema without the subject's rule.
  const orphanTopic = `test-avro-${randomUUID().slice(0, 8)}`;
  const subject = subjectFor(orphanTopic, v1);
  const res = await fetch(`${codec.registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(v1) }),
  });
  expect(res.status).toBe(200);
  const config = await fetch(`${codec.registryUrl}/config/${encodeURIComponent(subject)}`);
  expect(await config.json()).toEqual({ compatibilityLevel: 'NONE' });

  const fresh = new AvroCodec(codec.registryUrl);
  const value = { id: 'x', count: 1, note: null };
  expect((await fresh.decode(await fresh.encode(orphanTopic, v1, value))).value).toEqual(value);
  const after = await fetch(`${codec.registryUrl}/config/${encodeURIComponent(subject)}`);
  expect(await after.json()).toEqual({ compatibilityLevel: 'FULL_TRANSITIVE' });
});
