import { MessageCodec } from '../messaging/messageCodec';
import { AvroCodec } from '../platform/avro';
import { topicsFor, type Config } from '../platform/config';
import { DependencyUnavailableError } from '../platform/errors';
import { KafkaClients } from '../platform/kafka/kafka';
import type { Logger } from '../platform/logger';
import { assessmentAt, type AssessmentAt } from './assessmentReplay';
import { EventLog } from './eventLog';

/** Replays one assessment from the event log (see assessmentAt). */
export type AssessmentReplay = (assessmentId: string, asOf?: Date) => Promise<AssessmentAt>;

/**
 * An AssessmentReplay over Kafka for a process that has no reader of its own (the API): each
 * call connects an admin client and a group-less partition reader, reads, and disconnects, so
 * nothing stays open between calls; the registry codec (and its schema cache) is kept. Kafka
 * or the registry failing is a 503.
 */
export function kafkaAssessmentReplay(config: Config, logger: Logger): AssessmentReplay {
  const codec = new MessageCodec(new AvroCodec(config.SCHEMA_REGISTRY_URL), topicsFor(config));
  const topics = topicsFor(config);
  return async (assessmentId, asOf) => {
    const kafka = new KafkaClients({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-replay`,
      transactionTimeoutMs: config.KAFKA_TRANSACTION_TIMEOUT_MS,
      logger,
    });
    const admin = kafka.admin();
    let log: EventLog | undefined;
    try {
      await admin.connect();
      log = await EventLog.open({ kafka, kafkaAdmin: admin, topics, codec, name: 'api-replay' });
      return await assessmentAt(log, assessmentId, asOf);
    } catch (err) {
      logger.warn({ err, assessment_id: assessmentId }, 'replaying an assessment from the log failed');
      throw new DependencyUnavailableError('kafka', 'the event log cannot be read now; retry later');
    } finally {
      await log?.close().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  };
}
