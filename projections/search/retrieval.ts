import type { estypes } from '@elastic/elasticsearch';
import type { ElasticsearchClient } from '../../services/platform/elasticsearch';
import { EMBEDDING_DIMENSIONS } from '../../services/processors/embeddings/embeddings';
import type { CredentialDocument, EvidenceDocument } from './documents';
import type { SearchIndexes } from './indexes';
import { RRF_K, rrfFuse } from './rrf';

/**
 * Hybrid retrieval over the search indexes: a BM25 query and a top-level kNN query run
 * separately (both restricted to `active: true`, so a retired credential is never returned), and
 * their rankings are fused here with reciprocal rank fusion (this Elasticsearch has no `rrf`
 * retriever). Either half may be left out: text only is BM25, a vector only is kNN.
 */
export interface HybridQuery<F> {
  /** Free text for BM25. */
  text?: string;
  /** A query vector of EMBEDDING_DIMENSIONS, from the same embedding model as the documents. */
  vector?: ArrayLike<number>;
  /** How many fused hits to return (default 10). */
  k?: number;
  filter?: F;
  /** How deep each ranking goes before fusion (default max(3k, 20)). */
  window?: number;
  /** RRF's k (default 60). */
  rrfK?: number;
  /** Only documents embedded by this model take part in kNN (e.g. `all-MiniLM-L6-v2`). */
  embeddingModel?: string;
}

export interface CredentialFilter {
  skills?: string[];
  credentialIds?: string[];
}

export interface EvidenceFilter {
  sourceIds?: string[];
  sourceType?: EvidenceDocument['source_type'];
}

/** Scores of a fused hit: the RRF score, and each ranking's rank and raw score (null where absent). */
export interface HitScores {
  score: number;
  bm25: { rank: number; score: number } | null;
  knn: { rank: number; score: number } | null;
}

export interface CredentialHit extends HitScores {
  credential_id: string;
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
  metadata: CredentialDocument['metadata'];
}

export interface EvidenceHit extends HitScores {
  /** The passage's document id. */
  id: string;
  source_type: EvidenceDocument['source_type'];
  source_id: string;
  source_uri: string;
  source_title: string | null;
  /** A knowledge document's version the passage was cut from ("1", "2", …); null for a credential. */
  source_version: string | null;
  /** The passage text, verbatim: `source_text.slice(start, end)`. */
  snippet: string;
  start: number;
  end: number;
}

export interface Retrieval {
  searchCredentials(query: HybridQuery<CredentialFilter>): Promise<CredentialHit[]>;
  searchEvidence(query: HybridQuery<EvidenceFilter>): Promise<EvidenceHit[]>;
}

/** Retrieval bound to its client and indexes (the aliases, `searchAliases(prefix)`). */
export function createRetrieval(es: ElasticsearchClient, indexes: SearchIndexes): Retrieval {
  return {
    searchCredentials: (query) => searchCredentials(es, indexes.credentials, query),
    searchEvidence: (query) => searchEvidence(es, indexes.evidence, query),
  };
}

export async function searchCredentials(
  es: ElasticsearchClient,
  index: string,
  query: HybridQuery<CredentialFilter>,
): Promise<CredentialHit[]> {
  const filters: estypes.QueryDslQueryContainer[] = [{ term: { active: true } }];
  if (query.filter?.skills?.length) filters.push({ terms: { skills: query.filter.skills } });
  if (query.filter?.credentialIds?.length) filters.push({ ids: { values: query.filter.credentialIds } });
  const fused = await hybrid<CredentialDocument>(es, index, query, filters, (text) => ({
    multi_match: {
      query: text,
      fields: ['title^3', 'skills.text^2', 'description', 'provider'],
      type: 'best_fields',
      tie_breaker: 0.3,
    },
  }));
  return fused.map(({ doc, scores }) => ({
    credential_id: doc.credential_id,
    title: doc.title,
    description: doc.description,
    skills: doc.skills,
    provider: doc.provider,
    metadata: doc.metadata,
    ...scores,
  }));
}

export async function searchEvidence(
  es: ElasticsearchClient,
  index: string,
  query: HybridQuery<EvidenceFilter>,
): Promise<EvidenceHit[]> {
  const filters: estypes.QueryDslQueryContainer[] = [{ term: { active: true } }];
  if (query.filter?.sourceIds?.length) filters.push({ terms: { source_id: query.filter.sourceIds } });
  if (query.filter?.sourceType) filters.push({ term: { source_type: query.filter.sourceType } });
  const fused = await hybrid<EvidenceDocument>(es, index, query, filters, (text) => ({
    match: { text: { query: text } },
  }));
  return fused.map(({ id, doc, scores }) => ({
    id,
    source_type: doc.source_type,
    source_id: doc.source_id,
    source_uri: doc.source_uri,
    source_title: doc.source_title ?? null,
    source_version: doc.source_version ?? null,
    snippet: doc.text ?? '',
    start: doc.start ?? 0,
    end: doc.end ?? 0,
    ...scores,
  }));
}

interface Ranked<D> {
  id: string;
  score: number;
  doc: D;
}

async function hybrid<D>(
  es: ElasticsearchClient,
  index: string,
  query: HybridQuery<unknown>,
  filters: estypes.QueryDslQueryContainer[],
  textQuery: (text: string) => estypes.QueryDslQueryContainer,
): Promise<{ id: string; doc: D; scores: HitScores }[]> {
  const k = query.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const window = Math.min(query.window ?? Math.max(3 * k, 20), 10_000);
  const text = query.text?.trim();
  const vector = query.vector ? Array.from(query.vector) : undefined;
  if (!text && !vector) throw new RangeError('a hybrid query needs text, a vector, or both');
  if (vector && vector.length !== EMBEDDING_DIMENSIONS) {
    throw new RangeError(`query vector has ${vector.length} dimensions, expected ${EMBEDDING_DIMENSIONS}`);
  }
  const source = { excludes: ['vector'] };
  const bm25 = text
    ? es.search<D>({
        index,
        size: window,
        track_total_hits: false,
        _source: source,
        query: { bool: { must: [textQuery(text)], filter: filters } },
      })
    : undefined;
  const knnFilters = query.embeddingModel ? [...filters, { term: { embedding_model: query.embeddingModel } }] : filters;
  const knn = vector
    ? es.search<D>({
        index,
        size: window,
        track_total_hits: false,
        _source: source,
        knn: {
          field: 'vector',
          query_vector: vector,
          k: window,
          num_candidates: Math.min(Math.max(4 * window, 100), 10_000),
          filter: knnFilters,
        },
      })
    : undefined;
  const [bm25Hits, knnHits] = await Promise.all([bm25, knn].map(async (r) => ranked<D>(r ? await r : undefined)));
  const fused = rrfFuse([bm25Hits!, knnHits!], query.rrfK ?? RRF_K).slice(0, k);
  return fused.map((f) => {
    const [b, v] = f.ranks;
    return {
      id: f.id,
      doc: f.item.doc,
      scores: {
        score: f.score,
        bm25: b == null ? null : { rank: b, score: bm25Hits![b - 1]!.score },
        knn: v == null ? null : { rank: v, score: knnHits![v - 1]!.score },
      },
    };
  });
}

function ranked<D>(res: estypes.SearchResponse<D> | undefined): Ranked<D>[] {
  if (!res) return [];
  return res.hits.hits.flatMap((h) => (h._source ? [{ id: h._id!, score: h._score ?? 0, doc: h._source }] : []));
}
