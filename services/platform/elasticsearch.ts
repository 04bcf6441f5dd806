import { Client } from '@elastic/elasticsearch';

export type { Client as ElasticsearchClient };

export function createElasticsearch(url: string): Client {
  return new Client({ node: url, requestTimeout: 10_000, maxRetries: 3 });
}

/** This distribution has no `GET /`; cluster health is the liveness probe. */
export async function pingElasticsearch(client: Client, timeoutMs = 2000): Promise<void> {
  const health = await client.cluster.health({}, { requestTimeout: timeoutMs });
  if (health.status === 'red') throw new Error('cluster health is red');
}
