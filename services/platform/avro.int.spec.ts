import { randomUUID } from 'node:crypto';
import { loadConfig } from './config';
import { AvroCodec, SchemaIncompatibleError, type AvroRecordSchema } from './avro';

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
