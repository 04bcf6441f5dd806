import type { estypes } from '@elastic/elasticsearch';
import type { ElasticsearchClient } from '../../services/platform/elasticsearch';
import { EMBEDDING_DIMENSIONS } from '../../services/processors/embeddings/embeddings';

/**
 * The Elasticsearch indexes of the catalog, for retrieval. Each physical index
 * `<prefix>-<name>_v<n>` sits behind the alias `<prefix>-<name>`: readers and the live runner use
 * the alias, a rebuild fills `_v<n+1>` and `swapAlias` moves the alias over in one atomic call.
 * The prefix is `KAFKA_TOPIC_PREFIX` lower-cased, so test systems never see each other's indexes.
 */
export type SearchIndexName = 'credentials' | 'evidence';

/** Bump when a mapping changes: a new physical index, filled by a rebuild, then swapped in. */
export const SEARCH_INDEX_VERSIONS: Record<SearchIndexName, number> = { credentials: 1, evidence: 1 };

/** Where the runner writes and retrieval reads: one alias (or physical index) per kind. */
export interface SearchIndexes {
  credentials: string;
  evidence: string;
}

export function indexPrefix(topicPrefix: string): string {
  return topicPrefix.toLowerCase();
}

export function aliasName(prefix: string, name: SearchIndexName): string {
  return `${indexPrefix(prefix)}-${name}`;
}

export function physicalIndexName(
  prefix: string,
  name: SearchIndexName,
  version = SEARCH_INDEX_VERSIONS[name],
): string {
  return `${aliasName(prefix, name)}_v${version}`;
}

/** The aliases of a prefix: what the live runner writes to and retrieval reads from. */
export function searchAliases(prefix: string): SearchIndexes {
  return { credentials: aliasName(prefix, 'credentials'), evidence: aliasName(prefix, 'evidence') };
}

const vector: estypes.MappingProperty = {
  type: 'dense_vector',
  dims: EMBEDDING_DIMENSIONS,
  index: true,
  similarity: 'cosine',
  // Explicit, so the index does not change when a newer server picks another default (9.1: bbq).
  index_options: { type: 'int8_hnsw' },
};

const embedding: Record<string, estypes.MappingProperty> = {
  embedding_provider: { type: 'keyword' },
  embedding_model: { type: 'keyword' },
  embedding_degraded: { type: 'boolean' },
};

/** Standard analyser throughout (the integ-test distribution has no language analysers). */
export const SEARCH_MAPPINGS: Record<SearchIndexName, estypes.MappingTypeMapping> = {
  credentials: {
    dynamic: 'strict',
    properties: {
      credential_id: { type: 'keyword' },
      title: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 512 } } },
      description: { type: 'text' },
      skills: { type: 'keyword', fields: { text: { type: 'text' } } },
      provider: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
      metadata: { type: 'object', enabled: false },
      active: { type: 'boolean' },
      vector,
      ...embedding,
      passage_count: { type: 'integer' },
      passage_slots: { type: 'integer', index: false },
      stream_version: { type: 'long' },
      log_partition: { type: 'integer' },
      log_offset: { type: 'long' },
      updated_at: { type: 'date' },
      retired_at: { type: 'date' },
    },
  },
  evidence: {
    dynamic: 'strict',
    properties: {
      source_type: { type: 'keyword' },
      source_id: { type: 'keyword' },
      source_uri: { type: 'keyword' },
      source_field: { type: 'keyword' },
      source_title: { type: 'text' },
      source_version: { type: 'keyword' },
      passage_index: { type: 'integer' },
      text: { type: 'text' },
      start: { type: 'integer' },
      end: { type: 'integer' },
      active: { type: 'boolean' },
      vector,
      ...embedding,
      stream_version: { type: 'long' },
      log_partition: { type: 'integer' },
      log_offset: { type: 'long' },
      updated_at: { type: 'date' },
    },
  },
};

/** One shard (a catalog is small; BM25 statistics then cover every document), no replica (one node). */
const SETTINGS: estypes.IndicesIndexSettings = { number_of_shards: 1, number_of_replicas: 0 };

function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}

/**
 * Creates `<prefix>-<name>_v<n>` with its alias in one request when the alias does not exist
 * yet. Idempotent and race-safe: a concurrent creator makes ours fail with
 * `resource_already_exists_exception`, after which the alias is (re)attached idempotently. An
 * alias that already points elsewhere (a rebuilt `_v<n+1>`) is left alone. An existing index
 * gets the fields this build's mapping added since it was created (an additive change, e.g.
 * `source_version`), so a strict mapping does not refuse the new documents; a changed field
 * fails here, naming it: that needs a new index version and a rebuild.
 */
export async function ensureSearchIndex(
  es: ElasticsearchClient,
  prefix: string,
  name: SearchIndexName,
  version = SEARCH_INDEX_VERSIONS[name],
): Promise<{ alias: string; index: string }> {
  const alias = aliasName(prefix, name);
  const index = physicalIndexName(prefix, name, version);
  if (await es.indices.existsAlias({ name: alias })) {
    const target = await aliasTarget(es, alias);
    await addNewFields(es, target, name);
    return { alias, index: target };
  }
  try {
    await es.indices.create({ index, settings: SETTINGS, mappings: SEARCH_MAPPINGS[name], aliases: { [alias]: {} } });
  } catch (err) {
    if (errorType(err) !== 'resource_already_exists_exception') throw err;
    // Someone else created it (with or without the alias yet): attaching an alias is idempotent.
    if (!(await es.indices.existsAlias({ name: alias }))) await es.indices.putAlias({ index, name: alias });
  }
  await es.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
  return { alias, index: await aliasTarget(es, alias) };
}

async function addNewFields(es: ElasticsearchClient, index: string, name: SearchIndexName): Promise<void> {
  try {
    await es.indices.putMapping({ index, properties: SEARCH_MAPPINGS[name].properties });
  } catch (err) {
    const reason = (err as { meta?: { body?: { error?: { reason?: string } } } }).meta?.body?.error?.reason;
    throw new Error(
      `the ${name} index ${index} has a mapping this build cannot extend (${reason ?? String(err)}); bump SEARCH_INDEX_VERSIONS.${name} and rebuild`,
      { cause: err },
    );
  }
}

/** Both indexes of the catalog, behind their aliases. */
export async function ensureSearchIndexes(es: ElasticsearchClient, prefix: string): Promise<SearchIndexes> {
  const [credentials, evidence] = await Promise.all([
    ensureSearchIndex(es, prefix, 'credentials'),
    ensureSearchIndex(es, prefix, 'evidence'),
  ]);
  return { credentials: credentials.alias, evidence: evidence.alias };
}

/** The physical index behind an alias (the first, if an alias ever spans several). */
export async function aliasTarget(es: ElasticsearchClient, alias: string): Promise<string> {
  const found = await es.indices.getAlias({ name: alias });
  const [index] = Object.keys(found).sort();
  if (!index) throw new Error(`alias ${alias} points to no index`);
  return index;
}

/**
 * Moves `alias` from index `from` to index `to` in one atomic `_aliases` call: readers see either
 * the old index or the new one, never neither. `must_exist` makes the call fail (and change
 * nothing) when the alias is not on `from`, so two racing swaps cannot both win.
 */
export async function swapAlias(es: ElasticsearchClient, alias: string, from: string, to: string): Promise<void> {
  await es.indices.updateAliases({
    actions: [{ remove: { index: from, alias, must_exist: true } }, { add: { index: to, alias } }],
  });
}

/**
 * Deletes every physical index of a prefix (every version), and so their aliases: for tests.
 * Resolved to names first, as 8.x refuses wildcard deletes (`action.destructive_requires_name`).
 */
export async function deleteSearchIndexes(es: ElasticsearchClient, prefix: string): Promise<void> {
  const p = indexPrefix(prefix);
  const found = await es.indices.get(
    { index: `${p}-credentials_v*,${p}-evidence_v*`, allow_no_indices: true, expand_wildcards: 'all' },
    { ignore: [404] },
  );
  const names = Object.keys(found ?? {});
  if (names.length > 0) await es.indices.delete({ index: names }, { ignore: [404] });
}
