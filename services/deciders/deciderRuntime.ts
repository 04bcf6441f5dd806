import { v5 as uuidv5 } from 'uuid';
import { DomainError } from '../../domain/shared/errors';
import type { CommandEnvelope, CommandReply, EventEnvelope, WrittenEvent } from '../messaging/envelopes';
import type { MessageCodec } from '../messaging/messageCodec';
import type { Consumer, Producer } from '../platform/kafka/kafka';
import { inTransaction } from '../platform/kafka/transactions';
import type { Logger } from '../platform/logger';
import { withLogContext } from '../platform/logger';
import { timeDecision } from '../platform/metrics';
import type { Platform } from '../platform/platform';
import { catchUp } from './catchUp';
import type { AnyBoundedContext } from '../../domain';
import { PartitionState, StagedChanges, type ProcessedCommand } from './partitionState';
import { SnapshotStore } from './snapshots';

/**
 * Event ids derive from the command id and the event's version: a batch retried after an abort
 * writes the same ids, while a command decided afresh (retried after the idempotency window)
 * gets new ones, since its events take later versions.
 */
const EVENT_ID_NAMESPACE = '8f5d3c1e-6b0a-4c59-9d3e-2f1a7b6c4e10';

export interface DeciderRuntimeOptions {
  platform: Platform;
  context: AnyBoundedContext;
  codec: MessageCodec;
  /** Distinguishes this process's transactional producer; stable across restarts fences a predecessor at once. */
  instanceId: string;
  snapshotEvery?: number;
  maxBatchSize?: number;
  /** How long a processed command id is remembered: a retry within it gets the first outcome. */
  idempotencyWindowMs: number;
}

interface Outcome {
  command: CommandEnvelope;
  offset: number;
  events: EventEnvelope[];
  /** The events as Avro, encoded before the transaction so that a bad event rejects its command, not the batch. */
  encoded: Buffer[];
  /** For an accepted command: its entry in the processed-commands map, completed once written. */
  processed?: ProcessedCommand;
  reply: Omit<CommandReply, 'events' | 'decided_at'> & { events?: WrittenEvent[] };
}

/**
 * The only writer of events. A consumer group over a context's commands topic: each owned
 * partition's aggregates are rebuilt from the events topic (from a snapshot), then each batch
 * of commands is decided and its events, replies and consumed offsets are written in ONE Kafka
 * transaction, committed with the group's metadata so a decider that lost the partition is fenced.
 */
export class DeciderRuntime {
  private readonly logger: Logger;
  private readonly partitions = new Map<number, { ready: Promise<PartitionState>; cancelled: boolean }>();
  private readonly snapshots: SnapshotStore;
  private readonly eventsTopic: string;
  private readonly commandsTopic: string;
  private consumer!: Consumer;
  /** One transactional producer per partition: partitions are decided in parallel, and a new owner of a partition fences its predecessor's producer at once. */
  private readonly producers = new Map<number, Promise<Producer>>();
  private readonly reader;
  private snapshotting = Promise.resolve();
  /** Catch-ups share one partition reader, so they run one after another. */
  private catchingUp: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: DeciderRuntimeOptions) {
    const { platform, context } = options;
    this.logger = platform.logger.child({ component: 'decider', context: context.name });
    this.snapshots = new SnapshotStore(platform.pool);
    this.eventsTopic = platform.topics[context.name].events;
    this.commandsTopic = platform.topics[context.name].commands;
    this.reader = platform.kafka.partitionReader(`${context.name}-${options.instanceId}`);
  }

  async start(): Promise<void> {
    const { platform, context, instanceId } = this.options;
    this.consumer = platform.kafka.consumer(`${platform.config.KAFKA_CLIENT_ID}-deciders-${context.name}`, {
      maxBatchSize: this.options.maxBatchSize ?? 100,
      staticMemberId: `${platform.config.KAFKA_CLIENT_ID}-decider-${context.name}-${instanceId}`,
      rebalance: (event, assigned) => this.onRebalance(event, assigned),
    });
    await Promise.all([this.consumer.connect(), this.reader.connect()]);
    await this.consumer.subscribe({ topics: [this.commandsTopic] });
    await this.consumer.run({
      partitionsConsumedConcurrently: platform.config.KAFKA_PARTITIONS,
      eachBatch: async ({ batch }) => this.handleBatch(batch.partition, batch.messages),
    });
    this.logger.info({ instanceId }, 'decider started');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.snapshotting;
    const producers = await Promise.allSettled([...this.producers.values()]);
    await Promise.allSettled([
      ...producers.flatMap((p) => (p.status === 'fulfilled' ? [p.value.disconnect()] : [])),
      this.reader.disconnect(),
    ]);
  }

  /**
   * The transactional id names the partition, not the process: whoever owns partition p writes
   * with the same id, so initialising it aborts a crashed or evicted predecessor's open
   * transaction straight away (and KIP-447 offsets in the transaction fence a stale member).
   */
  private producerFor(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      const { platform, context } = this.options;
      const created = platform.kafka.transactionalProducer(
        `${platform.config.KAFKA_CLIENT_ID}-decider-${context.name}-p${partition}`,
      );
      producer = created.connect().then(() => created);
      producer.catch(() => this.producers.delete(partition));
      this.producers.set(partition, producer);
    }
    return producer;
  }

  private onRebalance(event: 'assign' | 'revoke', assigned: { topic: string; partition: number }[]): void {
    for (const { partition } of assigned) {
      if (event === 'revoke') {
        const entry = this.partitions.get(partition);
        if (entry) entry.cancelled = true;
        this.partitions.delete(partition);
        this.logger.info({ partition }, 'partition revoked');
      } else {
        const entry = { cancelled: false, ready: Promise.resolve(undefined as unknown as PartitionState) };
        entry.ready = this.load(partition, () => entry.cancelled || this.stopped);
        entry.ready.catch((err: unknown) =>
          this.logger.warn({ err, partition }, 'catch-up failed; will retry on next batch'),
        );
        this.partitions.set(partition, entry);
      }
    }
  }

  /** Snapshot, then the events after it: the state this partition's commands must be decided on. */
  private load(partition: number, isCancelled: () => boolean): Promise<PartitionState> {
    const loading = this.catchingUp.then(() => this.loadNow(partition, isCancelled));
    this.catchingUp = loading.catch(() => undefined);
    return loading;
  }

  private async loadNow(partition: number, isCancelled: () => boolean): Promise<PartitionState> {
    const { context, platform } = this.options;
    const started = Date.now();
    await this.producerFor(partition); // fences the previous owner's producer before we read
    const state = (await this.snapshots.load(context, this.eventsTopic, partition)) ?? new PartitionState(context);
    const fromOffset = state.nextEventsOffset;
    const { replayed } = await catchUp({
      admin: platform.kafkaAdmin,
      reader: this.reader,
      codec: this.options.codec,
      topic: this.eventsTopic,
      partition,
      state,
      openTransactionWaitMs: platform.config.KAFKA_TRANSACTION_TIMEOUT_MS * 2 + 5000,
      isCancelled,
      idempotencyWindowMs: this.options.idempotencyWindowMs,
    });
    this.logger.info({ partition, fromOffset, replayed, ms: Date.now() - started }, 'partition caught up');
    return state;
  }

  private async stateFor(partition: number): Promise<PartitionState> {
    let entry = this.partitions.get(partition);
    if (!entry) {
      // Assigned before our callback saw it (or a failed catch-up was dropped): load now.
      entry = { cancelled: false, ready: Promise.resolve(undefined as unknown as PartitionState) };
      const e = entry;
      e.ready = this.load(partition, () => e.cancelled || this.stopped);
      this.partitions.set(partition, e);
    }
    try {
      return await entry.ready;
    } catch (err) {
      if (this.partitions.get(partition) === entry) this.partitions.delete(partition);
      throw err;
    }
  }

  private async handleBatch(
    partition: number,
    messages: { offset: string; key: Buffer | null; value: Buffer | null }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const state = await this.stateFor(partition).catch(async (err: unknown) => {
      await new Promise((r) => setTimeout(r, 500)); // back off; the batch is redelivered
      throw err;
    });
    state.forgetProcessedBefore(Date.now() - this.options.idempotencyWindowMs);
    const staged = new StagedChanges(state);
    const outcomes: Outcome[] = [];
    const poison: { offset: number; value: Buffer | null; reason: string }[] = [];

    for (const message of messages) {
      const offset = Number(message.offset);
      let command: CommandEnvelope;
      try {
        if (!message.value) throw new Error('empty message');
        command = (await this.options.codec.decode<CommandEnvelope>(message.value)).value;
      } catch (err) {
        poison.push({ offset, value: message.value, reason: (err as Error).message });
        continue;
      }
      const decided = timeDecision(this.options.context.name);
      outcomes.push(
        await withLogContext({ correlation_id: command.correlation_id, causation_id: command.command_id }, () =>
          this.decideOne(command, offset, staged),
        ),
      );
      decided(outcomes[outcomes.length - 1]!.reply.outcome);
    }

    const lastOffset = Number(messages[messages.length - 1]!.offset);
    const written = await this.write(partition, outcomes, poison, lastOffset);
    staged.commitTo(state, written.count, written.lastEventOffset);
    this.maybeSnapshot(partition, state);
  }

  private async decideOne(command: CommandEnvelope, offset: number, staged: StagedChanges): Promise<Outcome> {
    const { context } = this.options;
    const base = {
      command_id: command.command_id,
      correlation_id: command.correlation_id,
      context: context.name,
      command_type: command.type,
      aggregate_id: command.aggregate_id,
      issued_by: command.actor,
    };
    const previous = staged.processedCommand(command.command_id);
    if (previous) {
      // The first decision's events: from this process's memory, a snapshot or the replayed log.
      // When the first decision is in this same batch, its entry's events are filled in as it is
      // written, before any reply is encoded.
      return {
        command,
        offset,
        events: [],
        encoded: [],
        reply: { ...base, outcome: 'duplicate', error: null, events: previous.events },
      };
    }
    const aggregate = staged.aggregate(command.aggregate_id);
    try {
      if (!context.commandTypes.includes(command.type)) {
        throw new Error(`unknown command type ${command.type}`);
      }
      const domainEvents = context.decider.decide(
        {
          type: command.type,
          data: command.data,
          metadata: { command_id: command.command_id, now: command.issued_at, actor: command.actor },
        },
        aggregate.state,
      ) as { type: string; data: Record<string, unknown> }[];
      let next = aggregate.state;
      const events = domainEvents.map((e, i): EventEnvelope => {
        next = context.decider.evolve(next, e);
        return {
          event_id: uuidv5(`${command.command_id}/${aggregate.version + i + 1}`, EVENT_ID_NAMESPACE),
          aggregate_id: command.aggregate_id,
          aggregate_type: context.aggregateTypeOf(e),
          version: aggregate.version + i + 1,
          type: e.type,
          occurred_at: command.issued_at,
          actor: command.actor,
          correlation_id: command.correlation_id,
          causation_id: command.command_id,
          data: e.data,
        };
      });
      const encoded = await Promise.all(events.map((e) => this.options.codec.encodeEvent(context.name, e)));
      staged.aggregates.set(command.aggregate_id, { state: next, version: aggregate.version + events.length });
      // Recorded now, so a repeat of this command later in the same batch is a duplicate too.
      const processed: ProcessedCommand = { aggregate_id: command.aggregate_id, events: [], at: Date.now() };
      staged.processed.set(command.command_id, processed);
      return { command, offset, events, encoded, processed, reply: { ...base, outcome: 'accepted', error: null } };
    } catch (err) {
      if (err instanceof DomainError) {
        return {
          command,
          offset,
          events: [],
          encoded: [],
          reply: {
            ...base,
            outcome: 'rejected',
            error: { code: err.code, kind: err.kind, message: err.message, details: err.details ?? null },
          },
        };
      }
      // A bug, a malformed command or an event its schema refuses must not wedge the partition:
      // reject the command (nothing of it was staged), keep going.
      this.logger.error({ err, command_id: command.command_id, type: command.type }, 'decide failed unexpectedly');
      return {
        command,
        offset,
        events: [],
        encoded: [],
        reply: {
          ...base,
          outcome: 'rejected',
          error: {
            code: 'COMMAND_FAILED',
            kind: 'internal',
            message: 'The command could not be processed',
            details: null,
          },
        },
      };
    }
  }

  /** Events, replies, dead letters and the consumed offset: one transaction. */
  private async write(
    partition: number,
    outcomes: Outcome[],
    poison: { offset: number; value: Buffer | null; reason: string }[],
    lastOffset: number,
  ): Promise<{ count: number; lastEventOffset: number | undefined }> {
    const { codec, platform } = this.options;
    const now = new Date().toISOString();
    try {
      return await inTransaction(
        await this.producerFor(partition),
        async (tx) => {
          // Every event on its own send, all at once: each delivery report gives that event's offset.
          const written = await Promise.all(
            outcomes.map(async (outcome) => {
              const events = await Promise.all(
                outcome.events.map(async (event, i): Promise<WrittenEvent> => {
                  const value = outcome.encoded[i]!;
                  const [meta] = await tx.send({
                    topic: this.eventsTopic,
                    messages: [
                      {
                        key: event.aggregate_id,
                        value,
                        partition,
                        headers: { type: event.type, event_id: event.event_id },
                      },
                    ],
                  });
                  const offset = Number(meta!.baseOffset ?? meta!.offset);
                  return {
                    event_id: event.event_id,
                    type: event.type,
                    version: event.version,
                    topic: this.eventsTopic,
                    partition,
                    offset,
                  };
                }),
              );
              // A duplicate writes nothing: its reply keeps the first decision's events (set in
              // decideOne), which is what the caller reads the outcome from (e.g. "submitted").
              if (outcome.reply.outcome !== 'duplicate') outcome.reply.events = events;
              outcome.processed?.events.push(...events);
              return events;
            }),
          );
          const all = written.flat();
          const count = all.length;
          const lastEventOffset = all.length > 0 ? Math.max(...all.map((w) => w.offset)) : undefined;
          const replies = await Promise.all(
            outcomes.map(async (o) => ({
              key: o.command.command_id,
              partition,
              value: await codec.encodeReply({ ...o.reply, events: o.reply.events ?? [], decided_at: now }),
            })),
          );
          if (replies.length > 0) await tx.send({ topic: platform.topics.replies, messages: replies });
          if (poison.length > 0) {
            await tx.send({
              topic: platform.topics.deadLetter,
              messages: poison.map((p) => ({
                key: `${this.commandsTopic}/${partition}/${p.offset}`,
                value: p.value,
                headers: {
                  reason: p.reason,
                  source_topic: this.commandsTopic,
                  source_partition: String(partition),
                  source_offset: String(p.offset),
                },
              })),
            });
          }
          for (const o of outcomes) {
            this.logger.debug(
              { command_id: o.command.command_id, outcome: o.reply.outcome, events: o.events.length },
              'command decided',
            );
          }
          return { count, lastEventOffset };
        },
        { consumer: this.consumer, consumed: [{ topic: this.commandsTopic, partition, nextOffset: lastOffset + 1 }] },
      );
    } catch (err) {
      // Fenced or failed: nothing of this batch is visible. Drop the partition's state (it may
      // have moved on elsewhere) and let the batch be redelivered after a short pause.
      this.logger.warn({ err, partition }, 'transaction aborted; batch will be retried');
      const entry = this.partitions.get(partition);
      if (entry) entry.cancelled = true;
      this.partitions.delete(partition);
      // A fenced producer cannot be used again: the reload makes a fresh one (if we still own p).
      const producer = this.producers.get(partition);
      this.producers.delete(partition);
      void producer?.then((p) => p.disconnect()).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      throw err;
    }
  }

  private maybeSnapshot(partition: number, state: PartitionState): void {
    const every = this.options.snapshotEvery ?? 5000;
    if (state.eventsSinceSnapshot < every) return;
    state.eventsSinceSnapshot = 0;
    const bytes = state.serialize();
    const offset = state.nextEventsOffset;
    this.snapshotting = this.snapshotting
      .then(() => this.snapshots.save(this.options.context, this.eventsTopic, partition, offset, bytes))
      .then(() => this.logger.info({ partition, offset }, 'snapshot saved'))
      .catch((err: unknown) => this.logger.warn({ err, partition }, 'snapshot failed (a cache; carrying on)'));
  }
}
