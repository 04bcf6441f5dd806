import type { ElasticsearchClient } from '../../platform/elasticsearch';
import type { CredentialDocument } from '../../../projections/search/documents';
import type { SearchIndexes } from '../../../projections/search/indexes';

/**
 * The vectors the search projection stored, with the model that made each, so the
 * recommendation stages compare exact cosines without embedding again what the index already
 * holds (kNN scores are approximate: the index is int8-quantised):
 * - a passage's, for a trace's similarity to the query (one `_mget`);
 * - every active credential of this deployment's index, with its text and vector: the ranking's
 *   candidates (one search).
 */
export interface StoredVector {
  model: string;
  vector: number[];
}

export interface IndexedCredential {
  credential_id: string;
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
  /** When the revision it was built from happened. */
  updated_at: string;
  /** Absent when the projection could not embed it. */
  stored?: StoredVector;
}

export interface StoredVectors {
  passages(ids: readonly string[]): Promise<Map<string, StoredVector>>;
  activeCredentials(): Promise<IndexedCredential[]>;
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
    async activeCredentials() {
      const res = await es.search<CredentialDocument>({
        index: indexes.credentials,
        size: MAX_CREDENTIALS,
        track_total_hits: false,
        query: { term: { active: true } },
        _source: [
          'credential_id',
          'title',
          'description',
          'skills',
          'provider',
          'vector',
          'embedding_model',
          'updated_at',
        ],
      });
      return res.hits.hits.flatMap((hit) => {
        const d = hit._source;
        if (!d) return [];
        return [
          {
            credential_id: d.credential_id,
            title: d.title,
            description: d.description,
            skills: d.skills,
            provider: d.provider,
            updated_at: d.updated_at,
            ...(Array.isArray(d.vector) && d.embedding_model
              ? { stored: { model: d.embedding_model, vector: d.vector } }
              : {}),
          },
        ];
      });
    },
  };
}
