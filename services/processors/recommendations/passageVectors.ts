import type { ElasticsearchClient } from '../../platform/elasticsearch';

/** A stored passage vector of the evidence index, with the model that made it. */
export interface StoredVector {
  model: string;
  vector: number[];
}

export type PassageVectors = (ids: readonly string[]) => Promise<Map<string, StoredVector>>;

/**
 * The vectors the search projection stored for evidence passages (one `_mget`), so a trace's
 * similarity is the exact cosine of the query and the passage, without embedding the passage
 * again (kNN scores are approximate: the index is int8-quantised).
 */
export function passageVectorsFrom(es: ElasticsearchClient, evidenceIndex: string): PassageVectors {
  return async (ids) => {
    const found = new Map<string, StoredVector>();
    if (ids.length === 0) return found;
    const res = await es.mget<{ vector?: number[]; embedding_model?: string }>({
      index: evidenceIndex,
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
  };
}
