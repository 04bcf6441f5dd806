import { randomUUID } from 'node:crypto';
import { catalogContext } from '../../domain';
import type { CatalogCommand } from '../../domain/catalog/decide';
import type { Actor } from '../../domain/shared/decider';
import demo from '../../services/cli/demo/catalog.json';
import { miniLmModelDir } from '../../services/platform/paths';
import { createEmbeddings, type FallbackEmbeddings } from '../../services/processors/embeddings/fallbackEmbeddings';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import type { Projection } from '../runtime/projection';
import { credentialSourceUri, passageId, type CredentialDocument, type EvidenceDocument } from './documents';
import { deleteSearchIndexes, ensureSearchIndexes, physicalIndexName, searchAliases, swapAlias } from './indexes';
import { createRetrieval, type Retrieval } from './retrieval';
import { bulkVersioned, SearchProjectionRunner, type SearchBatchReport } from './searchProjectionRunner';

jest.setTimeout(180_000);

let bed: Testbed;
let embeddings: FallbackEmbeddings;
let retrieval: Retrieval;
let prefix: string;
const runners: SearchProjectionRunner[] = [];
const groupPrefix = `test-search-${randomUUID().slice(0, 8)}`;
const catalog = new Streams(catalogContext);
const admin: Actor = { id: randomUUID(), role: 'admin' };
const decide = (type: CatalogCommand['type'], data: Record<string, unknown>, seconds: number) =>
  catalog.decide(commandOf<CatalogCommand>(type, data as CatalogCommand['data'], admin, at(seconds)));

/** The demo catalog's credentials, each with an id of its own. */
const credentials = demo.credentials.map((c) => ({ ...c, credential_id: randomUUID() }));
const bySlug = (slug: string) => credentials.find((c) => c.slug === slug)!;
const cka = bySlug('certified-kubernetes-administrator');
const powerBi = bySlug('microsoft-power-bi-data-analyst');
/** A long description, for several passages (then revised to one sentence: tombstones). */
const long = {
  credential_id: randomUUID(),
  title: 'Data Engineering Foundations',
  description: [
    bySlug('google-data-analytics'),
    bySlug('ibm-data-science'),
    bySlug('stanford-databases-relational-sql'),
  ]
    .flatMap((c) => [c.description, `  It also covers ${c.skills.join(' and ')} in depth, with graded labs.`])
    .join(' '),
  skills: ['sql', 'python', 'data modeling'],
  provider: 'Example University',
  metadata: null,
};
const descriptions = new Map<string, string>([...credentials, long].map((c) => [c.credential_id, c.description]));

const definition = (c: {
  credential_id: string;
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
  metadata: Record<string, unknown> | null;
}) => ({
  credential_id: c.credential_id,
  title: c.title,
  description: c.description,
  skills: c.skills,
  provider: c.provider,
  metadata: c.metadata,
});

/** The runner's position as a Projection, for the testbed's caughtUp/reset. */
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

async function stopRunners(): Promise<void> {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
}

async function caughtUp(runner: SearchProjectionRunner): Promise<void> {
  await bed.caughtUp(position(runner));
  await bed.platform.elasticsearch.indices.refresh({ index: Object.values(searchAliases(prefix)) });
}

interface Snapshot {
  id: string;
  version: number;
  source: unknown;
}

/** Every document of an index with its version, in id order. */
async function snapshot(index: string): Promise<Snapshot[]> {
  const res = await bed.platform.elasticsearch.search({
    index,
    size: 1000,
    version: true,
    query: { match_all: {} },
  });
  return res.hits.hits
    .map((h) => ({ id: h._id!, version: h._version!, source: h._source }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

beforeAll(async () => {
  bed = await createTestbed();
  prefix = bed.platform.config.KAFKA_TOPIC_PREFIX;
  embeddings = await createEmbeddings({ modelDir: miniLmModelDir(process.env), logger: bed.platform.logger });
  retrieval = createRetrieval(bed.platform.elasticsearch, searchAliases(prefix));
  const events = [...credentials, long].flatMap((c, i) => decide('CreateCredential', definition(c), i));
  // A role event too: the runner skips what is not a credential's.
  const role = randomUUID();
  events.push(
    ...decide(
      'CreateRole',
      { role_id: role, name: 'Analyst', description: 'd', skills_profile: [{ skill: 'sql', level: 3 }] },
      100,
    ),
  );
  await bed.publish('catalog', events);
});

afterAll(async () => {
  await stopRunners();
  await deleteSearchIndexes(bed.platform.elasticsearch, prefix).catch(() => undefined);
  await bed.platform.kafkaAdmin.deleteGroups([`${groupPrefix}-projection-search-catalog`]).catch(() => undefined);
  await embeddings?.close();
  await bed?.close();
});

describe('the search projection of the catalog', () => {
  it('creates each index behind its alias, idempotently (also when racing)', async () => {
    const es = bed.platform.elasticsearch;
    const results = await Promise.all([ensureSearchIndexes(es, prefix), ensureSearchIndexes(es, prefix)]);
    expect(results[0]).toEqual(searchAliases(prefix));
    expect(results[1]).toEqual(searchAliases(prefix));
    const aliases = await es.indices.getAlias({ name: Object.values(searchAliases(prefix)) });
    expect(Object.keys(aliases).sort()).toEqual([
      physicalIndexName(prefix, 'credentials'),
      physicalIndexName(prefix, 'evidence'),
    ]);
    expect(physicalIndexName(prefix, 'credentials')).toBe(`${prefix.toLowerCase()}-credentials_v1`);
  });

  it('writes every credential, with its vector, and its passages with exact offsets', async () => {
    const { runner } = await startRunner();
    await caughtUp(runner);
    const es = bed.platform.elasticsearch;
    const creds = await snapshot(searchAliases(prefix).credentials);
    expect(creds.map((c) => c.id).sort()).toEqual([...descriptions.keys()].sort());
    for (const { source } of creds) {
      const doc = source as CredentialDocument;
      expect(doc.active).toBe(true);
      expect(doc.vector).toHaveLength(384);
      expect(doc.embedding_model).toBe('all-MiniLM-L6-v2');
      expect(doc.embedding_degraded).toBe(false);
    }
    const evidence = (await snapshot(searchAliases(prefix).evidence)).map((e) => e.source as EvidenceDocument);
    const longPassages = evidence.filter((e) => e.source_id === long.credential_id);
    expect(longPassages.length).toBeGreaterThan(1);
    expect(new Set(evidence.map((e) => e.source_id))).toEqual(new Set(descriptions.keys()));
    for (const e of evidence) {
      expect(e).toMatchObject({
        source_type: 'credential',
        source_uri: credentialSourceUri(e.source_id),
        active: true,
      });
      expect(e.text).toBe(descriptions.get(e.source_id)!.slice(e.start, e.end));
      expect(e.vector).toHaveLength(384);
    }
    const longDoc = (
      await es.get<CredentialDocument>({ index: searchAliases(prefix).credentials, id: long.credential_id })
    )._source!;
    expect(longDoc.passage_count).toBe(longPassages.length);
  });

  it('ranks the obviously matching credential first, with hybrid retrieval', async () => {
    const text = 'Power BI data models with DAX and Power Query reports';
    const { vectors } = await embeddings.embed([text]);
    const hits = await retrieval.searchCredentials({ text, vector: vectors[0]!, k: 5 });
    expect(hits[0]!.credential_id).toBe(powerBi.credential_id);
    expect(hits[0]!.bm25?.rank).toBe(1);
    expect(hits[0]!.knn).not.toBeNull();
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);

    // The vector alone, and the text alone, each find it too.
    const byVector = await retrieval.searchCredentials({ vector: vectors[0]!, k: 3 });
    expect(byVector.map((h) => h.credential_id)).toContain(powerBi.credential_id);
    const byText = await retrieval.searchCredentials({ text, k: 3 });
    expect(byText[0]!.credential_id).toBe(powerBi.credential_id);
    // A keyword filter on skills.
    const filtered = await retrieval.searchCredentials({ text, k: 5, filter: { skills: ['kubernetes'] } });
    expect(filtered.every((h) => h.skills.includes('kubernetes'))).toBe(true);
  });

  it('returns evidence snippets that are verbatim slices of their source, with offsets', async () => {
    const text = 'relational databases, SQL queries and data modeling';
    const { vectors } = await embeddings.embed([text]);
    const hits = await retrieval.searchEvidence({ text, vector: vectors[0]!, k: 10 });
    expect(hits.length).toBe(10);
    for (const h of hits) {
      expect(h.snippet).toBe(descriptions.get(h.source_id)!.slice(h.start, h.end));
      expect(h.source_uri).toBe(credentialSourceUri(h.source_id));
      expect(h.snippet.length).toBeGreaterThan(0);
    }
  });

  it('leaves exactly the same documents after a replay of the whole log', async () => {
    const before = {
      credentials: await snapshot(searchAliases(prefix).credentials),
      evidence: await snapshot(searchAliases(prefix).evidence),
    };
    await stopRunners();
    await bed.reset(position(new SearchProjectionRunner(bed.platform, bed.codec, embeddings)));
    const { runner, reports } = await startRunner();
    await caughtUp(runner);
    const after = {
      credentials: await snapshot(searchAliases(prefix).credentials),
      evidence: await snapshot(searchAliases(prefix).evidence),
    };
    expect(after).toEqual(before);
    const applied = reports.reduce((n, r) => n + r.applied, 0);
    const skipped = reports.reduce((n, r) => n + r.skipped, 0);
    expect(applied).toBe(0);
    expect(skipped).toBe(descriptions.size);
  });

  it('counts a 409 on an older or equal version as done, and leaves the newer document', async () => {
    const index = searchAliases(prefix).credentials;
    const es = bed.platform.elasticsearch;
    const current = await es.get<CredentialDocument>({ index, id: powerBi.credential_id });
    const stale = { ...current._source!, title: 'stale' };
    const result = await bulkVersioned(es, index, [
      { id: powerBi.credential_id, version: current._version!, doc: stale },
      { id: powerBi.credential_id, version: current._version! - 1, doc: stale },
    ]);
    expect(result).toEqual({ written: 0, conflicts: 2 });
    const again = await es.get<CredentialDocument>({ index, id: powerBi.credential_id });
    expect(again._version).toBe(current._version);
    expect(again._source!.title).toBe(powerBi.title);
  });

  it('never retrieves a retired credential, nor its evidence; a revision tombstones lost passages', async () => {
    const runner = runners[0]!;
    const es = bed.platform.elasticsearch;
    const before = (
      await es.get<CredentialDocument>({ index: searchAliases(prefix).credentials, id: long.credential_id })
    )._source!;
    // Created and retired in one batch: the retirement sees the creation's documents.
    const ephemeral = { ...powerBi, credential_id: randomUUID() };
    descriptions.set(ephemeral.credential_id, ephemeral.description);
    await bed.publish('catalog', [
      ...decide('CreateCredential', definition(ephemeral), 199),
      ...decide('RetireCredential', { credential_id: ephemeral.credential_id, reason: null }, 199),
      ...decide('RetireCredential', { credential_id: cka.credential_id, reason: 'outdated' }, 200),
      ...decide('ReviseCredential', { ...long, description: 'A short course on SQL and data modeling.' }, 201),
    ]);
    await caughtUp(runner);

    const text = 'Certified Kubernetes Administrator exam on live clusters: troubleshooting, scheduling, networking';
    const { vectors } = await embeddings.embed([text]);
    const hits = await retrieval.searchCredentials({ text, vector: vectors[0]!, k: 60, window: 100 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.map((h) => h.credential_id)).not.toContain(cka.credential_id);
    const evidence = await retrieval.searchEvidence({ text, vector: vectors[0]!, k: 100, window: 200 });
    expect(evidence.map((h) => h.source_id)).not.toContain(cka.credential_id);
    const retired = await es.get<CredentialDocument>({
      index: searchAliases(prefix).credentials,
      id: cka.credential_id,
    });
    expect(retired._source).toMatchObject({ active: false, title: cka.title });
    const gone = await retrieval.searchCredentials({ text: powerBi.title, vector: vectors[0]!, k: 60, window: 100 });
    expect(gone.map((h) => h.credential_id)).toContain(powerBi.credential_id);
    expect(gone.map((h) => h.credential_id)).not.toContain(ephemeral.credential_id);
    const ephemeralDoc = await es.get<CredentialDocument>({
      index: searchAliases(prefix).credentials,
      id: ephemeral.credential_id,
    });
    expect(ephemeralDoc._source).toMatchObject({ active: false, title: powerBi.title, passage_count: 1 });
    const ephemeralPassage = await es.get<EvidenceDocument>({
      index: searchAliases(prefix).evidence,
      id: passageId(ephemeral.credential_id, 0),
    });
    expect(ephemeralPassage._source).toMatchObject({ active: false, text: powerBi.description });

    const revised = (
      await es.get<CredentialDocument>({ index: searchAliases(prefix).credentials, id: long.credential_id })
    )._source!;
    expect(revised.passage_count).toBe(1);
    expect(revised.passage_slots).toBe(before.passage_count);
    const passages = await es.mget<EvidenceDocument>({
      index: searchAliases(prefix).evidence,
      ids: Array.from({ length: before.passage_count }, (_, i) => passageId(long.credential_id, i)),
    });
    const docs = passages.docs.map((d) => ('_source' in d ? d._source : undefined));
    expect(docs[0]).toMatchObject({ active: true, text: 'A short course on SQL and data modeling.', start: 0 });
    for (const d of docs.slice(1)) expect(d).toMatchObject({ active: false, source_id: long.credential_id });
    expect(docs.slice(1).every((d) => d?.text === undefined)).toBe(true);
  });

  it('swaps an alias atomically from one physical index to another', async () => {
    const es = bed.platform.elasticsearch;
    const alias = searchAliases(prefix).credentials;
    const v1 = physicalIndexName(prefix, 'credentials', 1);
    const v2 = physicalIndexName(prefix, 'credentials', 2);
    await es.indices.create({ index: v2, settings: { number_of_replicas: 0 } });
    await swapAlias(es, alias, v1, v2);
    expect(Object.keys(await es.indices.getAlias({ name: alias }))).toEqual([v2]);
    // A second swap from v1 fails (the alias is no longer there) and changes nothing.
    await expect(swapAlias(es, alias, v1, v2)).rejects.toThrow();
    expect(Object.keys(await es.indices.getAlias({ name: alias }))).toEqual([v2]);
    await swapAlias(es, alias, v2, v1);
    expect(Object.keys(await es.indices.getAlias({ name: alias }))).toEqual([v1]);
  });
});
