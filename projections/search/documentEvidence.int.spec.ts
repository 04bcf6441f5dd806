import { randomUUID } from 'node:crypto';
import { catalogContext } from '../../domain';
import type { CatalogCommand } from '../../domain/catalog/decide';
import type { Actor } from '../../domain/shared/decider';
import { demoDocuments } from '../../services/cli/demoCatalog';
import { miniLmModelDir } from '../../services/platform/paths';
import { createEmbeddings, type FallbackEmbeddings } from '../../services/processors/embeddings/fallbackEmbeddings';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import type { Projection } from '../runtime/projection';
import { passageId, type EvidenceDocument } from './documents';
import { deleteSearchIndexes, ensureSearchIndex, physicalIndexName, SEARCH_MAPPINGS, searchAliases } from './indexes';
import { createRetrieval, type EvidenceHit, type Retrieval } from './retrieval';
import { SearchProjectionRunner, type SearchBatchReport } from './searchProjectionRunner';

jest.setTimeout(240_000);

/**
 * Knowledge documents in the `evidence` index, next to credential passages: each passage with its
 * vector, its document's source URI and exact offsets into the document's text; a revision
 * replaces the passages, a retirement hides them from retrieval, a replay changes nothing.
 */
let bed: Testbed;
let embeddings: FallbackEmbeddings;
let retrieval: Retrieval;
let prefix: string;
const runners: SearchProjectionRunner[] = [];
const groupPrefix = `test-docsearch-${randomUUID().slice(0, 8)}`;
const catalog = new Streams(catalogContext);
const admin: Actor = { id: randomUUID(), role: 'admin' };
const decide = (type: CatalogCommand['type'], data: Record<string, unknown>, seconds: number) =>
  catalog.decide(commandOf<CatalogCommand>(type, data as CatalogCommand['data'], admin, at(seconds)));

/** The demo documents, each under an id of its own; plus a long one and one with awkward text. */
const demo = demoDocuments().map((d) => ({ ...d, document_id: randomUUID() }));
const bySlug = (slug: string) => demo.find((d) => d.slug === slug)!;
const security = bySlug('cybersecurity-analyst-skills-in-practice');
const ux = bySlug('ux-designer-skills-in-practice');
const long = {
  document_id: randomUUID(),
  title: 'Everything about data',
  source_uri: 'urn:microcred:test:long',
  text: [bySlug('data-analyst-skills-in-practice'), bySlug('backend-software-engineer-skills-in-practice')]
    .map((d) => d.text)
    .join('\n\n'),
};
const awkward = {
  document_id: randomUUID(),
  title: 'Awkward text',
  source_uri: 'https://docs.microcred.example/guides/awkward',
  text: '\r\n   Leading blank lines and spaces.\r\nEmoji 👩🏽‍💻 before a sentence. Zürich, 東京 and naïve café.\tTabs too.  \n\n',
};
const credential = {
  credential_id: randomUUID(),
  title: 'Splunk Core Certified User',
  description: 'Searching, reporting and alerting on log data in Splunk.',
  skills: ['siem', 'log analysis'],
  provider: 'Splunk',
  metadata: null,
};
/** The text of each document as it stands (by document id). */
const texts = new Map<string, string>([...demo, long, awkward].map((d) => [d.document_id, d.text]));
const uris = new Map<string, string>([...demo, long, awkward].map((d) => [d.document_id, d.source_uri]));

const position = (runner: SearchProjectionRunner): Projection => ({
  name: runner.name,
  topics: () => runner.topics(),
  tables: [],
  apply: async () => undefined,
});

async function startRunner(): Promise<{ runner: SearchProjectionRunner; reports: SearchBatchReport[] }> {
  const runner = new SearchProjectionRunner(bed.platform, bed.codec, embeddings, { groupPrefix });
  const reports: SearchBatchReport[] = [];
  runner.onProgress((r) => reports.push(r));
  runners.push(runner);
  await runner.start();
  return { runner, reports };
}

async function caughtUp(runner: SearchProjectionRunner): Promise<void> {
  await bed.caughtUp(position(runner));
  await bed.platform.elasticsearch.indices.refresh({ index: Object.values(searchAliases(prefix)) });
}

/** Every evidence document with its version, in id order. */
async function evidence(): Promise<{ id: string; version: number; doc: EvidenceDocument }[]> {
  const res = await bed.platform.elasticsearch.search<EvidenceDocument>({
    index: searchAliases(prefix).evidence,
    size: 5000,
    version: true,
    query: { match_all: {} },
  });
  return res.hits.hits
    .map((h) => ({ id: h._id!, version: h._version!, doc: h._source! }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

const passagesOf = async (documentId: string) =>
  (await evidence())
    .filter((e) => e.doc.source_id === documentId)
    .sort((a, b) => a.doc.passage_index - b.doc.passage_index);

async function search(text: string, k = 100): Promise<EvidenceHit[]> {
  const { vectors } = await embeddings.embed([text]);
  return retrieval.searchEvidence({ text, vector: vectors[0]!, k, window: 200 });
}

beforeAll(async () => {
  bed = await createTestbed();
  prefix = bed.platform.config.KAFKA_TOPIC_PREFIX;
  embeddings = await createEmbeddings({ modelDir: miniLmModelDir(process.env), logger: bed.platform.logger });
  retrieval = createRetrieval(bed.platform.elasticsearch, searchAliases(prefix));
  const add = (d: { document_id: string; title: string; source_uri: string; text: string }, seconds: number) =>
    decide(
      'AddKnowledgeDocument',
      { document_id: d.document_id, title: d.title, source_uri: d.source_uri, text: d.text },
      seconds,
    );
  await bed.publish('catalog', [
    ...[...demo, long, awkward].flatMap((d, i) => add(d, i)),
    ...decide('CreateCredential', credential, 50),
  ]);
});

afterAll(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await deleteSearchIndexes(bed.platform.elasticsearch, prefix).catch(() => undefined);
  await bed.platform.kafkaAdmin.deleteGroups([`${groupPrefix}-projection-search-catalog`]).catch(() => undefined);
  await embeddings?.close();
  await bed?.close();
});

describe('knowledge documents in the evidence index', () => {
  it('indexes every passage with its vector, source URI and verbatim offsets, covering the text', async () => {
    const { runner } = await startRunner();
    await caughtUp(runner);
    const all = await evidence();
    const fromDocuments = all.filter((e) => e.doc.source_type === 'document');
    expect(new Set(fromDocuments.map((e) => e.doc.source_id))).toEqual(new Set(texts.keys()));
    // Credential passages sit beside them.
    expect(all.some((e) => e.doc.source_type === 'credential' && e.doc.source_id === credential.credential_id)).toBe(
      true,
    );
    for (const [documentId, text] of texts) {
      const passages = await passagesOf(documentId);
      expect(passages.map((p) => p.id)).toEqual(passages.map((_p, i) => passageId(documentId, i)));
      let covered = 0;
      for (const { doc } of passages) {
        expect(doc).toMatchObject({
          source_type: 'document',
          source_field: 'text',
          source_uri: uris.get(documentId),
          source_version: '1',
          active: true,
          embedding_model: 'all-MiniLM-L6-v2',
        });
        expect(doc.text).toBe(text.slice(doc.start, doc.end));
        expect(doc.text!.trim()).toBe(doc.text);
        expect(doc.start!).toBeGreaterThanOrEqual(covered);
        // Only whitespace between passages: together they cover the text.
        expect(text.slice(covered, doc.start).trim()).toBe('');
        covered = doc.end!;
        expect(doc.vector).toHaveLength(384);
      }
      expect(text.slice(covered).trim()).toBe('');
    }
    expect((await passagesOf(long.document_id)).length).toBeGreaterThan(5);
    expect((await passagesOf(awkward.document_id))[0]!.doc.start).toBe(5);
  });

  it('is found by hybrid retrieval, each snippet a verbatim slice of its document', async () => {
    const hits = await search(
      'triage SIEM alerts: a burst of failed logins followed by a success, brute-force attack',
      10,
    );
    expect(hits[0]!.source_id).toBe(security.document_id);
    expect(hits[0]!.snippet).toMatch(/failed logins/);
    for (const h of hits) {
      const text = h.source_type === 'document' ? texts.get(h.source_id)! : credential.description;
      expect(h.snippet).toBe(text.slice(h.start, h.end));
    }
    expect(hits[0]).toMatchObject({
      source_uri: security.source_uri,
      source_title: security.title,
      source_version: '1',
    });
    const onlyDocuments = await retrieval.searchEvidence({
      text: 'Splunk log data',
      k: 20,
      filter: { sourceType: 'document' },
    });
    expect(onlyDocuments.every((h) => h.source_type === 'document')).toBe(true);
  });

  it('a revision replaces the passages: what the old text said is no longer retrieved', async () => {
    const runner = runners[0]!;
    const oldPhrase = 'the N+1 query: loading a list and then querying the database once per item instead of joining';
    expect((await search(oldPhrase, 5)).map((h) => h.source_id)).toContain(long.document_id);
    const before = (await passagesOf(long.document_id)).length;
    const revised = 'A short guide now.\n\nIt only says that window functions rank rows.';
    await bed.publish(
      'catalog',
      decide('ReviseKnowledgeDocument', { document_id: long.document_id, text: revised }, 100),
    );
    texts.set(long.document_id, revised);
    await caughtUp(runner);

    const passages = await passagesOf(long.document_id);
    expect(passages).toHaveLength(before);
    const live = passages.filter((p) => p.doc.active);
    // Two short sentences make one passage, spanning the blank line between them.
    expect(live.map((p) => p.doc.text)).toEqual([revised]);
    for (const p of live) {
      expect(p.doc.text).toBe(revised.slice(p.doc.start, p.doc.end));
      expect(p.doc.source_version).toBe('2');
    }
    for (const p of passages.slice(live.length)) {
      expect(p.doc).toMatchObject({ active: false, source_id: long.document_id });
      expect(p.doc.text).toBeUndefined();
    }
    const hits = await search(oldPhrase);
    for (const h of hits.filter((x) => x.source_id === long.document_id)) {
      expect(h.snippet).toBe(revised.slice(h.start, h.end));
    }
    expect((await search('window functions rank rows', 3))[0]).toMatchObject({
      source_id: long.document_id,
      source_version: '2',
    });
  });

  it('a retirement hides every passage from retrieval (content kept, inactive); also within one batch', async () => {
    const runner = runners[0]!;
    const ephemeral = { ...ux, document_id: randomUUID(), source_uri: 'urn:microcred:test:ephemeral' };
    await bed.publish('catalog', [
      ...decide('RetireKnowledgeDocument', { document_id: security.document_id, reason: 'outdated' }, 200),
      ...decide(
        'AddKnowledgeDocument',
        {
          document_id: ephemeral.document_id,
          title: ephemeral.title,
          source_uri: ephemeral.source_uri,
          text: ephemeral.text,
        },
        201,
      ),
      ...decide('RetireKnowledgeDocument', { document_id: ephemeral.document_id, reason: null }, 202),
    ]);
    await caughtUp(runner);

    const query = 'triage SIEM alerts: a burst of failed logins followed by a success, brute-force attack';
    const hits = await search(query, 200);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.map((h) => h.source_id)).not.toContain(security.document_id);
    const uxHits = await search('usability testing with five participants per round', 200);
    expect(uxHits.map((h) => h.source_id)).toContain(ux.document_id);
    expect(uxHits.map((h) => h.source_id)).not.toContain(ephemeral.document_id);
    for (const retired of [security, ephemeral]) {
      const passages = await passagesOf(retired.document_id);
      expect(passages.length).toBeGreaterThan(1);
      for (const { doc } of passages) {
        expect(doc.active).toBe(false);
        expect(doc.text).toBe(retired.text.slice(doc.start, doc.end));
      }
    }
  });

  it('an evidence index created before source_version existed gets the field when the runner starts', async () => {
    const es = bed.platform.elasticsearch;
    const older = `${prefix}-older`;
    const { source_version: _added, ...properties } = SEARCH_MAPPINGS.evidence.properties!;
    const index = physicalIndexName(older, 'evidence');
    await es.indices.create({
      index,
      settings: { number_of_replicas: 0 },
      mappings: { dynamic: 'strict', properties },
      aliases: { [searchAliases(older).evidence]: {} },
    });
    try {
      const passage = { source_type: 'document', source_id: 'd', source_uri: 'urn:x:y', source_version: '1' };
      await expect(es.index({ index, id: 'p', document: passage })).rejects.toThrow(/strict_dynamic_mapping/);
      await ensureSearchIndex(es, older, 'evidence');
      await es.index({ index, id: 'p', document: passage, refresh: true });
      expect((await es.get({ index, id: 'p' }))._source).toEqual(passage);
    } finally {
      await deleteSearchIndexes(es, older);
    }
  });

  it('leaves exactly the same documents after a replay of the whole log, embedding nothing again', async () => {
    const before = await evidence();
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    await bed.reset(position(new SearchProjectionRunner(bed.platform, bed.codec, embeddings)));
    const { runner, reports } = await startRunner();
    await caughtUp(runner);
    expect(await evidence()).toEqual(before);
    expect(reports.reduce((n, r) => n + r.applied, 0)).toBe(0);
    // Every document and credential event was recognised as applied already.
    const events = demo.length + 2 + 1 + 1 + 3; // added, one credential, one revision, two retirements and an addition
    expect(reports.reduce((n, r) => n + r.skipped, 0)).toBe(events);
  });
});
