import type { ElasticsearchClient } from '../../platform/elasticsearch';
import type { SearchIndexes } from '../../../projections/search/indexes';

/**
 * The vectors the search projection stored, with the model that made each, so the
 * recommendation stages compare exact cosines without embedding again what the index already
 * holds (kNN scores are approximate: the index is int8-quantised):
 * - a passage's, for a trace's similarity to the query (one `_mget`);
 * - every active credential's, for the ranking's content similarity (one search), keyed by
 *   credential id with the instant of the revision it was embedded from.
 */
export interface StoredVector {
  model: string;
  vector: number[];
}

export interface StoredVectors {
  passages(ids: readonly string[]): Promise<Map<string, StoredVector>>;
  credentials(): Promise<Map<string, StoredVector & { updated_at: string }>>;
}

const MAX_CREDENTIALS = 10_000;

export function storedVectorsFrom(es: ElasticsearchClient, indexes: SearchIndexes): StoredVectors {
  return {
    async passages(ids) {
      const found = new Map<string, StoredVector>();
      if (ids.length === 0) return found;
      const res = await es.mget<{ vector?: number[]; embedding_model?: string }>({
        index: indexes.evidence,
        ids: [...ids],
        _source_includes: ['vector', 'embedding_model'],
      });
      for (const doc of res.docs) {
        if (!('found' in doc) || !doc.found) continue;
        const { vector, embedding_model } = doc._source ?? {};
        if (Array.isArray(vector) && typeof embedding_model === 'string') {
          found.set(doc._id, { model: embedding_model, vector });
        }
      }
      return found;
    },
    async credentials() {
      const res = await es.search<{
        credential_id: string;
        vector?: number[];
        embedding_model?: string;
        updated_at?: string;
      }>(
        {
          index: indexes.credentials,
          size: MAX_CREDENTIALS,
          track_total_hits: false,
          query: { term: { active: true } },
          _source: ['credential_id', 'vector', 'embedding_model', 'updated_at'],
        },
        { ignore: [404] },
      );
      const found = new Map<string, StoredVector & { updated_at: string }>();
      for (const hit of res.hits?.hits ?? []) {
        const d = hit._source;
        if (d && Array.isArray(d.vector) && typeof d.embedding_model === 'string' && d.updated_at) {
          found.set(d.credential_id, { model: d.embedding_model, vector: d.vector, updated_at: d.updated_at });
        }
      }
      return found;
    },
  };
}
