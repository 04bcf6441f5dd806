import { randomUUID } from 'node:crypto';
import { loadConfig } from './config';
import { createElasticsearch } from './elasticsearch';

const es = createElasticsearch(loadConfig().ELASTICSEARCH_URL);
const index = `test-knn-${randomUUID().slice(0, 8)}`;
const DIMS = 384;

/** A unit vector pointing mostly along `axis`, with a little deterministic spread. */
function vector(axis: number, tilt = 0): number[] {
  const v = Array.from({ length: DIMS }, (_, i) => (i === axis ? 1 : i === (axis + 1) % DIMS ? tilt : 0.01));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

afterAll(async () => {
  await es.indices.delete({ index }, { ignore: [404] });
  await es.close();
});

test('a 384-dim dense_vector index answers a kNN query with the nearest document first', async () => {
  await es.indices.create({
    index,
    mappings: {
      properties: {
        title: { type: 'keyword' },
        embedding: { type: 'dense_vector', dims: DIMS, index: true, similarity: 'cosine' },
      },
    },
  });
  const docs = [
    { id: 'sql', title: 'SQL for analysts', embedding: vector(3) },
    { id: 'k8s', title: 'Kubernetes administrator', embedding: vector(100) },
    { id: 'sec', title: 'Security fundamentals', embedding: vector(200) },
    { id: 'k8s-ish', title: 'Containers intro', embedding: vector(100, 0.8) },
  ];
  await es.bulk({
    refresh: 'wait_for',
    operations: docs.flatMap(({ id, ...doc }) => [{ index: { _index: index, _id: id } }, doc]),
  });

  const result = await es.search<{ title: string }>({
    index,
    knn: { field: 'embedding', query_vector: vector(100, 0.1), k: 2, num_candidates: 10 },
    _source: ['title'],
  });
  const ids = result.hits.hits.map((h) => h._id);
  expect(ids).toEqual(['k8s', 'k8s-ish']);
  expect(result.hits.hits[0]!._score!).toBeGreaterThan(result.hits.hits[1]!._score!);
});
