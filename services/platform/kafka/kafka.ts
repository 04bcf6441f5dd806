import { KafkaJS, KafkaConsumer as RdKafkaConsumer } from '@confluentinc/kafka-javascript';
import type { Logger } from '../logger';

export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type Admin = KafkaJS.Admin;

export interface KafkaSettings {
  brokers: string;
  clientId: string;
  transactionTimeoutMs: number;
  logger: Logger;
}

/**
 * librdkafka properties every client shares. `murmur2_random` is the Java client's
 * partitioner: Kafka tooling and our producers agree on key → partition.
 */
function common(settings: KafkaSettings, suffix: string) {
  return {
    'bootstrap.servers': settings.brokers,
    'client.id': `${settings.clientId}-${suffix}`,
    'socket.keepalive.enable': true,
    'reconnect.backoff.ms': 100,
    'reconnect.backoff.max.ms': 2000,
  } as const;
}

/** Routes librdkafka's KafkaJS-style log calls into pino. */
function kafkaLogger(logger: Logger): KafkaJS.Logger {
  const make = (child: Logger): KafkaJS.Logger => ({
    info: (message, extra) => child.info(extra ?? {}, message),
    warn: (message, extra) => child.warn(extra ?? {}, message),
    error: (message, extra) => child.error(extra ?? {}, message),
    debug: (message, extra) => child.debug(extra ?? {}, message),
    namespace: (namespace) => make(child.child({ kafka: namespace })),
    setLogLevel: () => undefined,
  });
  return make(logger.child({ component: 'kafka' }));
}

/**
 * The one Kafka wrapper: every producer, consumer and admin client in microcred is made
 * here, with the settings our exactly-once design relies on.
 */
export class KafkaClients {
  private readonly kafka: KafkaJS.Kafka;

  constructor(readonly settings: KafkaSettings) {
    this.kafka = new KafkaJS.Kafka({
      kafkaJS: {
        brokers: settings.brokers.split(','),
        logger: kafkaLogger(settings.logger),
        logLevel: KafkaJS.logLevel.WARN,
      },
    });
  }

  admin(): Admin {
    return this.kafka.admin({ 'client.id': `${this.settings.clientId}-admin` });
  }

  /** Idempotent producer: retries never duplicate, order per partition is kept. */
  producer(name = 'producer'): Producer {
    return this.kafka.producer({
      ...common(this.settings, name),
      'enable.idempotence': true,
      acks: -1,
      partitioner: 'murmur2_random',
      'linger.ms': 2,
      'message.timeout.ms': 30_000,
    });
  }

  /** Transactional producer; with sendOffsets(consumer) it fences zombies by group generation (KIP-447). */
  transactionalProducer(transactionalId: string): Producer {
    return this.kafka.producer({
      ...common(this.settings, 'tx'),
      'transactional.id': transactionalId,
      'transaction.timeout.ms': this.settings.transactionTimeoutMs,
      // librdkafka insists requests time out before the transaction does.
      'socket.timeout.ms': Math.min(60_000, this.settings.transactionTimeoutMs + 100),
      'enable.idempotence': true,
      acks: -1,
      partitioner: 'murmur2_random',
      'linger.ms': 1,
    });
  }

  /**
   * Group consumer that only sees committed transactions and never auto-commits: offsets
   * are committed inside producer transactions or stored beside the rows they produced.
   */
  consumer(
    groupId: string,
    options: {
      fromBeginning?: boolean;
      sessionTimeoutMs?: number;
      maxPollIntervalMs?: number;
      maxBatchSize?: number;
      /**
       * Static membership (KIP-345): a restarted member with the same id takes its partitions
       * back at once instead of waiting out the session timeout of its dead predecessor.
       */
      staticMemberId?: string;
      /**
       * Told of every assignment change. On 'assign' it may return the assignment with start
       * offsets (e.g. read from PostgreSQL) to consume from instead of the committed ones.
       */
      rebalance?: (
        event: 'assign' | 'revoke',
        partitions: { topic: string; partition: number }[],
      ) =>
        | void
        | { topic: string; partition: number; offset: number }[]
        | Promise<void | { topic: string; partition: number; offset: number }[]>;
    } = {},
  ): Consumer {
    const rebalance = options.rebalance;
    return this.kafka.consumer({
      ...common(this.settings, `consumer-${groupId}`),
      'group.id': groupId,
      'isolation.level': 'read_committed',
      'enable.auto.commit': false,
      'auto.offset.reset': options.fromBeginning === false ? 'latest' : 'earliest',
      'session.timeout.ms': options.sessionTimeoutMs ?? 10_000,
      'heartbeat.interval.ms': 1000,
      'max.poll.interval.ms': options.maxPollIntervalMs ?? 60_000,
      'fetch.wait.max.ms': 20,
      'js.consumer.max.batch.size': options.maxBatchSize ?? 200,
      ...(options.staticMemberId ? { 'group.instance.id': options.staticMemberId } : {}),
      ...(rebalance
        ? {
            rebalance_cb: async (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
              const assign = err.code === KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS;
              const alternate = await rebalance(assign ? 'assign' : 'revoke', assignment);
              return assign && alternate ? alternate : undefined;
            },
          }
        : {}),
    });
  }

  /** A group-less reader for one partition at a time (catch-up, replies, replay). */
  partitionReader(name: string): PartitionReader {
    return new PartitionReader(
      new RdKafkaConsumer(
        {
          ...common(this.settings, `reader-${name}`),
          'group.id': `${this.settings.clientId}-reader-${name}`,
          'isolation.level': 'read_committed',
          'enable.auto.commit': false,
          'enable.partition.eof': true,
          'fetch.wait.max.ms': 20,
        },
        { 'auto.offset.reset': 'earliest' },
      ),
    );
  }
}

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number | undefined;
  headers: Record<string, Buffer>;
}

/** Assign-and-consume reader over librdkafka's consumer, without group membership. */
export class PartitionReader {
  private connected = false;
  constructor(private readonly consumer: RdKafkaConsumer) {
    // Wait up to 200 ms for a first message, then return whatever else is already fetched:
    // low latency for request/reply, big batches for catch-up.
    consumer.setDefaultConsumeTimeout(200);
    (
      consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) =>
      this.consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())),
    );
    this.connected = true;
  }

  assign(assignments: { topic: string; partition: number; offset: number }[]): void {
    this.consumer.assign(assignments);
  }

  unassign(): void {
    this.consumer.unassign();
  }

  /** Next batch of up to `max` messages (possibly empty on EOF or timeout). */
  consume(max: number): Promise<ReadMessage[]> {
    return new Promise((resolve, reject) =>
      this.consumer.consume(max, (err, messages) => {
        if (err) return reject(err);
        resolve(
          messages.map((m) => ({
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            key: (m.key as Buffer | null | undefined) ?? null,
            value: m.value ?? null,
            timestamp: m.timestamp,
            headers: Object.assign({}, ...(m.headers ?? []).map((h) => h)) as Record<string, Buffer>,
          })),
        );
      }),
    );
  }

  /** Next offset this reader will fetch, per assigned partition. */
  position(topic: string, partition: number): number | undefined {
    const [pos] = this.consumer.position([{ topic, partition }]);
    return pos && pos.offset >= 0 ? pos.offset : undefined;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}
