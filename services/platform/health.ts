import type { Pool } from 'pg';
import type { AvroCodec } from './avro';
import type { ElasticsearchClient } from './elasticsearch';
import { pingElasticsearch } from './elasticsearch';
import { withDeadline } from './deadline';
import type { Admin } from './kafka/kafka';

export type DependencyName = 'kafka' | 'registry' | 'postgres' | 'elasticsearch';
export type Readiness = Record<DependencyName, string>;

/** Probes every dependency in parallel; each answers "ok" or a short reason, within `timeoutMs`. */
export async function checkReadiness(
  deps: { kafkaAdmin: Admin; codec: AvroCodec; pool: Pool; elasticsearch: ElasticsearchClient },
  timeoutMs = 2000,
): Promise<{ ready: boolean; dependencies: Readiness }> {
  const probes: Record<DependencyName, () => Promise<unknown>> = {
    kafka: () => deps.kafkaAdmin.fetchTopicMetadata({ timeout: timeoutMs }),
    registry: () => deps.codec.ping(timeoutMs),
    postgres: () => deps.pool.query('SELECT 1'),
    elasticsearch: () => pingElasticsearch(deps.elasticsearch, timeoutMs),
  };
  const names = Object.keys(probes) as DependencyName[];
  const results = await Promise.allSettled(names.map((n) => withDeadline(probes[n](), timeoutMs, n)));
  const dependencies = Object.fromEntries(
    names.map((n, i) => {
      const r = results[i]!;
      return [n, r.status === 'fulfilled' ? 'ok' : `unavailable: ${(r.reason as Error).message}`];
    }),
  ) as Readiness;
  return { ready: Object.values(dependencies).every((v) => v === 'ok'), dependencies };
}
