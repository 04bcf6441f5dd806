import type { Pool } from 'pg';
import { AvroCodec } from './avro';
import { topicsFor, type Config, type Topics } from './config';
import { createElasticsearch, type ElasticsearchClient } from './elasticsearch';
import { KafkaClients, type Admin } from './kafka/kafka';
import { createLogger, type Logger } from './logger';
import { createPool } from './postgres/pool';

/** The shared infrastructure a process is built from; each composition root makes one. */
export interface Platform {
  config: Config;
  logger: Logger;
  topics: Topics;
  kafka: KafkaClients;
  kafkaAdmin: Admin;
  codec: AvroCodec;
  pool: Pool;
  elasticsearch: ElasticsearchClient;
  close(): Promise<void>;
}

export async function createPlatform(config: Config, name: string): Promise<Platform> {
  const logger = createLogger({ level: config.LOG_LEVEL, service: `${config.SERVICE_NAME}-${name}` });
  const kafka = new KafkaClients({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-${name}`,
    transactionTimeoutMs: config.KAFKA_TRANSACTION_TIMEOUT_MS,
    logger,
  });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: name,
    logger,
  });
  const elasticsearch = createElasticsearch(config.ELASTICSEARCH_URL);
  return {
    config,
    logger,
    topics: topicsFor(config),
    kafka,
    kafkaAdmin,
    codec: new AvroCodec(config.SCHEMA_REGISTRY_URL),
    pool,
    elasticsearch,
    async close() {
      await Promise.allSettled([kafkaAdmin.disconnect(), pool.end(), elasticsearch.close()]);
    },
  };
}
