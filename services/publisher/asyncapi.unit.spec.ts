import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { schemaCatalog } from '../../schemas/catalog';
import { loadConfig } from '../platform/config';
import { AVRO_SCHEMA_FORMAT, asyncApiDocument, messageIdOf } from './asyncapi';
import { publicSchemaNames } from './mapping';
import { ceTypeOf, publicEventTypes } from './publicEvents';

const config = loadConfig({
  KAFKA_BROKERS: 'kafka-1.example:9092,kafka-2.example:9092',
  KAFKA_TOPIC_PREFIX: 'acme',
  KAFKA_PARTITIONS: '12',
  SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7',
});
const document = asyncApiDocument(config);

async function parse(doc: unknown) {
  const parser = new Parser();
  parser.registerSchemaParser(AvroSchemaParser());
  return parser.parse(JSON.stringify(doc));
}

describe('the AsyncAPI document of the public topic', () => {
  test('is valid AsyncAPI 3.0 with its Avro payloads: no errors (the parser and its Avro schema parser)', async () => {
    const { document: parsed, diagnostics } = await parse(document);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors).toEqual([]);
    expect(parsed).toBeDefined();
    // Warnings are allowed (style hints); they are listed here so that a new one is noticed.
    const warnings = diagnostics
      .filter((d) => d.severity === DiagnosticSeverity.Warning)
      .map((d) => `${d.code}: ${d.path.join('.')}`);
    expect(warnings).toEqual([]);
  });

  test('the Kafka server from KAFKA_BROKERS, with the registry; the channel is the public topic with its partitions', async () => {
    const { document: parsed } = await parse(document);
    const server = parsed!.servers().get('kafka')!;
    expect(server.protocol()).toBe('kafka');
    expect(server.host()).toBe('kafka-1.example:9092');
    expect(server.description()).toContain('kafka-2.example:9092');
    expect(server.bindings().get('kafka')!.value()).toMatchObject({
      schemaRegistryUrl: 'https://registry.example/apis/ccompat/v7',
      schemaRegistryVendor: 'confluent',
    });
    const channel = parsed!.channels().get('publicAssessment')!;
    expect(channel.address()).toBe('acme.public.assessment');
    expect(channel.bindings().get('kafka')!.value()).toMatchObject({ topic: 'acme.public.assessment', partitions: 12 });
    expect(
      channel
        .messages()
        .all()
        .map((m) => m.name()),
    ).toEqual([...publicEventTypes]);
  });

  test('one message per public type: its Avro contract as payload, the CloudEvents headers, the key binding', async () => {
    const { document: parsed } = await parse(document);
    for (const type of publicEventTypes) {
      const raw = document.components.messages[messageIdOf(type)]!;
      const entry = schemaCatalog.find((e) => e.kind === 'public' && e.type === publicSchemaNames[type])!;
      expect(raw.payload).toEqual({ schemaFormat: AVRO_SCHEMA_FORMAT, schema: entry.schema });
      expect(raw.headers.properties.ce_type.const).toBe(ceTypeOf(type));
      expect(raw.headers.required).toEqual(
        expect.arrayContaining(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_subject']),
      );
      const message = parsed!
        .messages()
        .all()
        .find((m) => m.name() === type)!;
      expect(message.schemaFormat()).toBe(AVRO_SCHEMA_FORMAT);
      // The Avro parser turned the payload into a JSON schema: every field of the contract is there.
      const properties = Object.keys(message.payload()!.properties() ?? {});
      expect(properties.sort()).toEqual(entry.schema.fields.map((f) => f.name).sort());
      expect(message.bindings().get('kafka')!.value()).toMatchObject({
        key: { type: 'string', format: 'uuid' },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
      });
    }
  });

  test('every public contract documents its record and each field (partners read them in the document)', () => {
    const publicEntries = schemaCatalog.filter((e) => e.kind === 'public');
    expect(publicEntries.map((e) => e.type).sort()).toEqual(Object.values(publicSchemaNames).sort());
    const visit = (record: { doc?: string; fields: { name: string; doc?: string; type: unknown }[] }) => {
      expect(record.doc?.length).toBeGreaterThan(10);
      for (const field of record.fields) {
        expect({ field: field.name, documented: (field.doc?.length ?? 0) > 3 }).toEqual({
          field: field.name,
          documented: true,
        });
        const nested = (field.type as { items?: unknown }).items ?? field.type;
        if ((nested as { type?: string }).type === 'record') visit(nested as Parameters<typeof visit>[0]);
      }
    };
    for (const entry of publicEntries) {
      expect(entry.schema.namespace).toBe('io.microcred.public');
      expect(entry.schema.name).toMatch(/V\d+$/);
      visit(entry.schema);
    }
  });

  test('an invalid document is caught (the check is not vacuous)', async () => {
    const broken = {
      ...document,
      channels: { publicAssessment: { ...document.channels.publicAssessment, address: 42 } },
    };
    const { diagnostics } = await parse(broken);
    expect(diagnostics.some((d) => d.severity === DiagnosticSeverity.Error)).toBe(true);
  });
});
