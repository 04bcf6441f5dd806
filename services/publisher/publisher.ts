import { writeSync } from 'node:fs';
import { Counter } from 'prom-client';
import type { PoolClient } from 'pg';
import { assessmentEventTypes } from '../../domain/assessment/assessment';
import { schemaFor } from '../../schemas/catalog';
import type { EventEnvelope } from '../messaging/envelopes';
import { ConfigError } from '../platform/config';
import type { MessageCodec } from '../messaging/messageCodec';
import type { Consumer, Producer } from '../platform/kafka/kafka';
import { inTransaction as inKafkaTransaction } from '../platform/kafka/transactions';
import type { Logger } from '../platform/logger';
import { processMetrics } from '../platform/metrics';
import type { Platform } from '../platform/platform';
import { inTransaction } from '../platform/postgres/pool';
import {
  foldFacts,
  publicEventFor,
  publicSchemaNames,
  type AssessmentEnvelope,
  type PublicDraft,
  type PublisherFacts,
} from './mapping';
import { publicRecordHeaders, publicSourceFor, type PublicEventType } from './publicEvents';

/**
 * The public topic publisher: assessment events in (read_committed), public events out
 * (`topics.publicAssessment`, keyed by assessment id, CloudEvents binary mode), exactly once.
 *
 * Per batch of one events partition:
 * 1. ONE PostgreSQL transaction, under the partition's offset row lock: the events not yet folded
 *    (offset ≥ the row's next offset) are folded into their assessment's facts; each public event
 *    is built right then, encoded, and kept in the outbox under its source event id
 *    (ON CONFLICT DO NOTHING); the offset row moves past the batch. The batch's outbox rows are
 *    read back, in source offset order.
 * 2. ONE Kafka transaction: those records, and the consumed offset (with the group's metadata,
 *    KIP-447), by a transactional producer whose id names the input partition (a new owner of
 *    the partition fences its predecessor and aborts its open transaction at once).
 *
 * A crash between 1 and 2 redelivers the batch from the last committed offset: step 1 folds
 * nothing twice and step 2 produces the same bytes again from the outbox, in a new transaction;
 * the aborted one was never visible to read_committed readers. No loss, no duplicate. Order per
 * assessment holds: an assessment's events sit on one partition, its batches commit one after
 * another, and its records share a key (so a partition) of the public topic.
 *
 * An event that cannot be decoded, or a public event its contract refuses, fails the batch (and
 * the partition retries it): losing a partner's event silently would break the contract, and
 * neither happens unless the registry is down or the mapping has a bug to fix.
 */
export interface PublisherOptions {
  platform: Platform;
  codec: MessageCodec;
  maxBatchSize?: number;
  /**
   * Fault injection for the crash test (PUBLISHER_CRASH_POINT): `before-kafka-commit` SIGKILLs
   * the process once a batch's records are in PostgreSQL and sent in the open Kafka transaction.
   */
  crashPoint?: 'none' | 'before-kafka-commit';
}

interface Decoded {
  offset: number;
  event: AssessmentEnvelope;
}

interface OutboxRow {
  event_id: string;
  event_type: PublicEventType;
  record_key: string;
  record_value: Buffer;
  headers: Record<string, string>;
}

const eventTypes = new Set<string>(assessmentEventTypes);

export class PublicPublisher {
  private readonly logger: Logger;
  private readonly sourceTopic: string;
  private readonly publicTopic: string;
  private readonly source: string;
  private consumer?: Consumer;
  /** One transactional producer per input partition (see the class comment). */
  private readonly producers = new Map<number, Promise<Producer>>();
  private stopped = false;

  constructor(private readonly options: PublisherOptions) {
    const { platform } = options;
    this.logger = platform.logger.child({ component: 'publisher' });
    this.sourceTopic = platform.topics.assessment.events;
    this.publicTopic = platform.topics.publicAssessment;
    this.source = publicSourceFor(platform.config.KAFKA_TOPIC_PREFIX);
  }

  async start(): Promise<void> {
    const { platform } = this.options;
    this.consumer = platform.kafka.consumer(`${platform.config.KAFKA_CLIENT_ID}-publisher`, {
      maxBatchSize: this.options.maxBatchSize ?? 200,
    });
    publishedCounter(); // registered (and described at /metrics) before the first record
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.sourceTopic] });
    await this.consumer.run({
      // Not latency-critical: a few partitions at a time keep the PostgreSQL pool for the others.
      partitionsConsumedConcurrently: Math.min(3, platform.config.KAFKA_PARTITIONS),
      eachBatch: async ({ batch }) => this.handleBatch(batch.partition, batch.messages),
    });
    this.logger.info({ from: this.sourceTopic, to: this.publicTopic }, 'publisher started');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
    const producers = await Promise.allSettled([...this.producers.values()]);
    await Promise.allSettled(producers.flatMap((p) => (p.status === 'fulfilled' ? [p.value.disconnect()] : [])));
  }

  private producerFor(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      const { platform } = this.options;
      const created = platform.kafka.transactionalProducer(
        `${platform.config.KAFKA_CLIENT_ID}-publisher-p${partition}`,
      );
      producer = created.connect().then(() => created);
      producer.catch(() => this.producers.delete(partition));
      this.producers.set(partition, producer);
    }
    return producer;
  }

  private dropProducer(partition: number): void {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    void producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  private async handleBatch(partition: number, messages: { offset: string; value: Buffer | null }[]): Promise<void> {
    if (messages.length === 0) return;
    const first = Number(messages[0]!.offset);
    const last = Number(messages[messages.length - 1]!.offset);
    try {
      const decoded: Decoded[] = [];
      for (const m of messages) {
        if (!m.value) continue;
        const { value } = await this.options.codec.decode<EventEnvelope>(m.value);
        if (eventTypes.has(value.type)) decoded.push({ offset: Number(m.offset), event: value as AssessmentEnvelope });
      }
      const records = await inTransaction(this.options.platform.pool, (client) =>
        this.fold(client, partition, first, last, decoded),
      );
      await this.produce(partition, records, last + 1);
      for (const record of records) publishedCounter().inc({ type: record.event_type });
    } catch (err) {
      // Nothing of the batch is visible on the public topic; whatever PostgreSQL kept is reused.
      this.logger.warn({ err, partition, from: first, to: last }, 'publisher batch failed; it will be retried');
      // A fenced or failed producer cannot be used again; a partition we still own gets a new one.
      this.dropProducer(partition);
      await new Promise((r) => setTimeout(r, 500));
      throw err;
    }
  }

  /** Step 1: fold what is new, keep its public records, read back the batch's records. */
  private async fold(
    client: PoolClient,
    partition: number,
    first: number,
    last: number,
    events: Decoded[],
  ): Promise<OutboxRow[]> {
    const next = await this.lockPartition(client, partition);
    // Below the batch's first offset, everything was committed to Kafka (the batch resumes from
    // the committed offset): those outbox rows have done their job.
    await client.query(
      'DELETE FROM public_publisher_outbox WHERE source_topic = $1 AND partition = $2 AND source_offset < $3',
      [this.sourceTopic, partition, first],
    );
    const fresh = events.filter((e) => e.offset >= next);
    if (fresh.length > 0) await this.foldEvents(client, partition, fresh);
    await client.query(
      `UPDATE public_publisher_offsets SET next_offset = GREATEST(next_offset, $3), updated_at = NOW()
       WHERE source_topic = $1 AND partition = $2`,
      [this.sourceTopic, partition, last + 1],
    );
    const { rows } = await client.query<OutboxRow>(
      `SELECT event_id, event_type, record_key, record_value, headers FROM public_publisher_outbox
       WHERE source_topic = $1 AND partition = $2 AND source_offset BETWEEN $3 AND $4 ORDER BY source_offset`,
      [this.sourceTopic, partition, first, last],
    );
    return rows;
  }

  private async foldEvents(client: PoolClient, partition: number, events: Decoded[]): Promise<void> {
    const ids = [...new Set(events.map((e) => e.event.data.assessment_id))];
    const { rows } = await client.query<{ assessment_id: string; facts: PublisherFacts; last_offset: string }>(
      `SELECT assessment_id, facts, last_offset FROM public_publisher_facts
       WHERE source_topic = $1 AND assessment_id = ANY($2) FOR UPDATE`,
      [this.sourceTopic, ids],
    );
    const stored = new Map(rows.map((r) => [r.assessment_id, { facts: r.facts, lastOffset: Number(r.last_offset) }]));
    const current = new Map<string, { facts: PublisherFacts | undefined; lastOffset: number }>(stored);
    for (const { offset, event } of events) {
      const id = event.data.assessment_id;
      const before = current.get(id);
      // A second guard, per assessment: an event this row already reflects is not folded again.
      if (before && offset <= before.lastOffset) continue;
      const draft = publicEventFor(before?.facts, event);
      if (draft) await this.keep(client, partition, offset, draft);
      else if (isEnding(event) && !before?.facts) {
        this.logger.error(
          { assessment_id: id, type: event.type, offset },
          'an assessment ended whose start the publisher never saw: no public event for it',
        );
      }
      current.set(id, { facts: foldFacts(before?.facts, event), lastOffset: offset });
    }
    for (const [id, { facts, lastOffset }] of current) {
      if (stored.get(id)?.lastOffset === lastOffset) continue;
      if (facts) {
        await client.query(
          `INSERT INTO public_publisher_facts (source_topic, assessment_id, facts, last_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (source_topic, assessment_id)
           DO UPDATE SET facts = EXCLUDED.facts, last_offset = EXCLUDED.last_offset, updated_at = NOW()`,
          [this.sourceTopic, id, JSON.stringify(facts), lastOffset],
        );
      } else if (stored.has(id)) {
        await client.query('DELETE FROM public_publisher_facts WHERE source_topic = $1 AND assessment_id = $2', [
          this.sourceTopic,
          id,
        ]);
      }
    }
  }

  /** Encodes a public event (its contract, the registry's id) and keeps it in the outbox. */
  private async keep(client: PoolClient, partition: number, offset: number, draft: PublicDraft): Promise<void> {
    const entry = schemaFor('public', 'public', publicSchemaNames[draft.type]);
    if (!entry) throw new Error(`No public schema for ${draft.type}`);
    const value = await this.options.platform.codec.encode(this.publicTopic, entry.schema, draft.data);
    const headers = publicRecordHeaders(
      { id: draft.id, type: draft.type, source: this.source, subject: draft.subject, time: draft.time },
      value,
    );
    await client.query(
      `INSERT INTO public_publisher_outbox
         (source_topic, event_id, partition, source_offset, event_type, record_key, record_value, headers)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [this.sourceTopic, draft.id, partition, offset, draft.type, draft.subject, value, JSON.stringify(headers)],
    );
  }

  /** Step 2: the records and the consumed offset, in one Kafka transaction. */
  private async produce(partition: number, records: OutboxRow[], nextOffset: number): Promise<void> {
    const consumer = this.consumer!;
    await inKafkaTransaction(
      await this.producerFor(partition),
      async (tx) => {
        if (records.length === 0) return;
        await tx.send({
          topic: this.publicTopic,
          messages: records.map((r) => ({
            key: r.record_key,
            value: r.record_value,
            headers: r.headers,
            timestamp: String(Date.parse(r.headers.ce_time ?? '') || Date.now()),
          })),
        });
        if (this.options.crashPoint === 'before-kafka-commit') {
          // Written synchronously: the logger's buffered line could die with the process.
          writeSync(
            2,
            `PUBLISHER_CRASH_POINT: killing the process (partition ${partition}, ${records.length} records)\n`,
          );
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined); // never resumes
        }
      },
      { consumer, consumed: [{ topic: this.sourceTopic, partition, nextOffset }] },
    );
  }

  private async lockPartition(client: PoolClient, partition: number): Promise<number> {
    const lock = () =>
      client.query<{ next_offset: string }>(
        'SELECT next_offset FROM public_publisher_offsets WHERE source_topic = $1 AND partition = $2 FOR UPDATE',
        [this.sourceTopic, partition],
      );
    let { rows } = await lock();
    if (!rows[0]) {
      await client.query(
        `INSERT INTO public_publisher_offsets (source_topic, partition, next_offset) VALUES ($1, $2, 0)
         ON CONFLICT DO NOTHING`,
        [this.sourceTopic, partition],
      );
      ({ rows } = await lock());
    }
    return Number(rows[0]!.next_offset);
  }
}

function isEnding(event: AssessmentEnvelope): boolean {
  return event.type === 'AssessmentCompleted' || event.type === 'AssessmentFailed';
}

let counter: Counter<'type'> | undefined;

/** Public records committed to the public topic, by public type (in the process's registry). */
function publishedCounter(): Counter<'type'> {
  return (counter ??= new Counter({
    name: 'public_events_published_total',
    help: 'Public events committed to the public topic, by type (a batch re-produced after a crash counts again in the process that commits it)',
    labelNames: ['type'],
    registers: [processMetrics().registry],
  }));
}

/** Starts the publisher (the `processors` role). */
export async function startPublisher(platform: Platform, codec: MessageCodec): Promise<PublicPublisher> {
  const crashPoint = platform.config.PUBLISHER_CRASH_POINT;
  if (crashPoint !== 'none' && platform.config.NODE_ENV === 'production') {
    throw new ConfigError([`PUBLISHER_CRASH_POINT=${crashPoint}: fault injection is refused with NODE_ENV=production`]);
  }
  const publisher = new PublicPublisher({ platform, codec, crashPoint });
  await publisher.start();
  return publisher;
}
