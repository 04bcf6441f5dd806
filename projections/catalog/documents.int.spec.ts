import { randomUUID } from 'node:crypto';
import { catalogContext } from '../../domain';
import type { CatalogCommand } from '../../domain/catalog/decide';
import type { Actor } from '../../domain/shared/decider';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import { catalogProjection } from './projection';
import { findDocument, findDocumentVersion, listDocuments } from './queries';

jest.setTimeout(120_000);

/** The catalog projection's knowledge documents: knowledge_documents and knowledge_document_versions. */
let bed: Testbed;
const catalog = new Streams(catalogContext);
const admin: Actor = { id: randomUUID(), role: 'admin' };
const decide = (type: CatalogCommand['type'], data: Record<string, unknown>, seconds: number) =>
  catalog.decide(commandOf<CatalogCommand>(type, data as CatalogCommand['data'], admin, at(seconds)));

// Two documents share a title: the id breaks the tie.
const [guideA, guideB] = [randomUUID(), randomUUID()].sort() as [string, string];
const [sql, old, later] = [randomUUID(), randomUUID(), randomUUID()];
/** Text kept exactly: leading and trailing whitespace, CRLF, tabs, astral characters. */
const sqlText = '  # SQL in practice\r\n\r\nAnalysts join, filter\tand aggregate. 👩🏽‍💻 東京\n\n';
const first: EventEnvelope[] = [];

const add = (id: string, title: string, text: string, seconds: number) =>
  decide(
    'AddKnowledgeDocument',
    { document_id: id, title, source_uri: `https://docs.microcred.example/guides/${title.toLowerCase()}`, text },
    seconds,
  );

beforeAll(async () => {
  bed = await createTestbed();
  first.push(
    ...add(sql, 'SQL', sqlText, 0),
    ...add(guideB, 'Guide', 'Guide B.', 1),
    ...add(guideA, 'Guide', 'Guide A.', 2),
    ...add(old, 'Archive', 'Old advice.', 3),
    ...decide('ReviseKnowledgeDocument', { document_id: sql, text: `${sqlText}More.` }, 10),
    ...decide('ReviseKnowledgeDocument', { document_id: sql, title: 'SQL in practice' }, 11),
    ...decide('RetireKnowledgeDocument', { document_id: old, reason: 'outdated' }, 12),
  );
  await bed.publish('catalog', first);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
});

afterAll(async () => {
  await bed?.close();
});

const pool = () => bed.platform.pool;

async function snapshot() {
  const table = async (sql: string) => (await pool().query(sql)).rows;
  return {
    documents: await table('SELECT * FROM knowledge_documents ORDER BY id'),
    versions: await table('SELECT * FROM knowledge_document_versions ORDER BY document_id, version'),
    list: await listDocuments(pool(), { page: 1, pageSize: 50, includeRetired: true, withText: true }),
  };
}

test('the current version of each document, its text exactly as added', async () => {
  expect(await findDocument(pool(), sql)).toEqual({
    document_id: sql,
    title: 'SQL in practice',
    source_uri: 'https://docs.microcred.example/guides/sql',
    version: '3',
    status: 'active',
    text: `${sqlText}More.`,
    text_length: `${sqlText}More.`.length,
    created_at: at(0),
    updated_at: at(11),
    retired_at: null,
  });
  expect(await findDocument(pool(), old)).toMatchObject({
    status: 'retired',
    version: '1',
    retired_at: at(12),
    updated_at: at(12),
    text: 'Old advice.',
  });
  expect(await findDocument(pool(), randomUUID())).toBeUndefined();
  expect(await findDocument(pool(), 'not-a-uuid')).toBeUndefined();
});

test('every version is kept, immutable', async () => {
  expect(await findDocumentVersion(pool(), sql, '1')).toEqual({
    document_id: sql,
    version: '1',
    title: 'SQL',
    source_uri: 'https://docs.microcred.example/guides/sql',
    text: sqlText,
  });
  expect((await findDocumentVersion(pool(), sql, '2'))?.text).toBe(`${sqlText}More.`);
  expect((await findDocumentVersion(pool(), sql, '3'))?.title).toBe('SQL in practice');
  expect(await findDocumentVersion(pool(), sql, '4')).toBeUndefined();
});

test('the list: active documents by title then id, paged, without their text unless asked', async () => {
  const all = await listDocuments(pool(), { page: 1, pageSize: 10 });
  expect(all.total).toBe(3);
  expect(all.items.map((d) => d.document_id)).toEqual([guideA, guideB, sql]);
  expect(all.items[0]).toEqual({
    document_id: guideA,
    title: 'Guide',
    source_uri: 'https://docs.microcred.example/guides/guide',
    version: '1',
    status: 'active',
    text_length: 8,
    created_at: at(2),
    updated_at: at(2),
    retired_at: null,
  });
  const withText = await listDocuments(pool(), { page: 1, pageSize: 10, withText: true });
  expect(withText.items.map((d) => d.text)).toEqual(['Guide A.', 'Guide B.', `${sqlText}More.`]);

  const retiredToo = await listDocuments(pool(), { page: 1, pageSize: 2, includeRetired: true });
  expect(retiredToo.total).toBe(4);
  expect(retiredToo.items.map((d) => d.title)).toEqual(['Archive', 'Guide']);
  const page2 = await listDocuments(pool(), { page: 2, pageSize: 2, includeRetired: true });
  expect(page2.items.map((d) => d.document_id)).toEqual([guideB, sql]);
  expect(await listDocuments(pool(), { page: 3, pageSize: 2, includeRetired: true })).toEqual({
    items: [],
    total: 4,
  });
  await expect(listDocuments(pool(), { page: 0, pageSize: 10 })).rejects.toThrow(RangeError);
});

test('a new runner resumes where the last one stopped; older events change nothing', async () => {
  await bed.stopRunners();
  await bed.publish('catalog', [
    ...add(later, 'Later', 'Added while the runner was away.', 20),
    ...decide('ReviseKnowledgeDocument', { document_id: guideA, text: 'Guide A, revised.' }, 21),
  ]);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
  expect(await findDocument(pool(), later)).toMatchObject({ version: '1', status: 'active' });
  expect(await findDocument(pool(), guideA)).toMatchObject({ version: '2', text: 'Guide A, revised.' });

  const before = await snapshot();
  for (const event of first) await bed.applyDirectly(catalogProjection, event);
  expect(await snapshot()).toEqual(before);
});

test('replaying from offset 0 over the rows, then into empty tables, gives the same read model', async () => {
  const before = await snapshot();
  await bed.stopRunners();
  await bed.reset(catalogProjection);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
  expect(await snapshot()).toEqual(before);

  await bed.stopRunners();
  await bed.reset(catalogProjection, ['knowledge_documents', 'knowledge_document_versions']);
  expect((await snapshot()).documents).toEqual([]);
  await bed.startRunner(catalogProjection);
  await bed.caughtUp(catalogProjection);
  expect(await snapshot()).toEqual(before);
});
