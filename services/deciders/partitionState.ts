import { gunzipSync, gzipSync } from 'node:zlib';
import type { StoredEvent, WrittenEvent } from '../messaging/envelopes';
import type { AnyBoundedContext } from '../../domain';

export interface AggregateEntry {
  state: unknown;
  version: number;
}

/** What a processed command produced; a retry of the same command id gets this back. */
export interface ProcessedCommand {
  aggregate_id: string;
  events: WrittenEvent[];
  /** When it was decided (epoch ms): remembered for the idempotency window from then. */
  at: number;
}

/**
 * The decided state of every aggregate in one partition, plus the command ids already
 * processed there (rebuilt from the events' causation ids), and the next events offset to read.
 */
export class PartitionState {
  readonly aggregates = new Map<string, AggregateEntry>();
  readonly processed = new Map<string, ProcessedCommand>();
  nextEventsOffset = 0;
  eventsSinceSnapshot = 0;

  constructor(private readonly context: AnyBoundedContext) {}

  aggregate(id: string): AggregateEntry {
    return this.aggregates.get(id) ?? { state: this.context.decider.initialState(), version: 0 };
  }

  /** Folds an event read back from the log (catch-up); `decidedAt` is the record's timestamp. */
  replay(event: StoredEvent, decidedAt?: number): void {
    const current = this.aggregate(event.aggregate_id);
    this.aggregates.set(event.aggregate_id, {
      state: this.context.decider.evolve(current.state, { type: event.type, data: event.data }),
      version: event.version,
    });
    if (event.causation_id) {
      const processed = this.processed.get(event.causation_id) ?? {
        aggregate_id: event.aggregate_id,
        events: [],
        at: decidedAt ?? Date.parse(event.occurred_at),
      };
      processed.events.push({
        event_id: event.event_id,
        type: event.type,
        version: event.version,
        topic: event.topic,
        partition: event.partition,
        offset: event.offset,
      });
      this.processed.set(event.causation_id, processed);
    }
    this.nextEventsOffset = event.offset + 1;
    this.eventsSinceSnapshot++;
  }

  /**
   * Forgets the commands decided before `cutoff` (epoch ms): a retry of one of them is then
   * decided afresh. The map is in log order, which is decision order, so this stops at the
   * first newer entry and costs nothing when there is nothing to forget.
   */
  forgetProcessedBefore(cutoff: number): number {
    let forgotten = 0;
    for (const [commandId, entry] of this.processed) {
      if (entry.at >= cutoff) break;
      this.processed.delete(commandId);
      forgotten++;
    }
    return forgotten;
  }

  serialize(): Buffer {
    return gzipSync(
      JSON.stringify({
        nextEventsOffset: this.nextEventsOffset,
        aggregates: [...this.aggregates],
        processed: [...this.processed],
      }),
    );
  }

  static deserialize(context: AnyBoundedContext, bytes: Buffer): PartitionState {
    const raw = JSON.parse(gunzipSync(bytes).toString('utf8')) as {
      nextEventsOffset: number;
      aggregates: [string, AggregateEntry][];
      processed: [string, Omit<ProcessedCommand, 'at'> & { at?: number }][];
    };
    const state = new PartitionState(context);
    state.nextEventsOffset = raw.nextEventsOffset;
    for (const [k, v] of raw.aggregates) state.aggregates.set(k, v);
    // Entries from snapshots taken before decision times were kept: remember them one window from now.
    const now = Date.now();
    for (const [k, v] of raw.processed) state.processed.set(k, { ...v, at: v.at ?? now });
    return state;
  }
}

/**
 * A batch's tentative changes over a partition's state: reads fall through, writes stay here
 * until the Kafka transaction commits, so an aborted batch leaves the state untouched.
 */
export class StagedChanges {
  readonly aggregates = new Map<string, AggregateEntry>();
  readonly processed = new Map<string, ProcessedCommand>();

  constructor(private readonly base: PartitionState) {}

  aggregate(id: string): AggregateEntry {
    return this.aggregates.get(id) ?? this.base.aggregate(id);
  }

  processedCommand(commandId: string): ProcessedCommand | undefined {
    return this.processed.get(commandId) ?? this.base.processed.get(commandId);
  }

  commitTo(target: PartitionState, eventsWritten: number, lastEventOffset: number | undefined): void {
    for (const [k, v] of this.aggregates) target.aggregates.set(k, v);
    for (const [k, v] of this.processed) target.processed.set(k, v);
    if (lastEventOffset !== undefined) target.nextEventsOffset = lastEventOffset + 1;
    target.eventsSinceSnapshot += eventsWritten;
  }
}
