import type { Pool } from 'pg';
import type { AnyBoundedContext } from '../../domain';
import { PartitionState } from './partitionState';

/** Snapshots are a cache in PostgreSQL: losing one costs rebuild time, never correctness. */
export class SnapshotStore {
  constructor(private readonly pool: Pool) {}

  async load(context: AnyBoundedContext, topic: string, partition: number): Promise<PartitionState | undefined> {
    const { rows } = await this.pool.query<{ state: Buffer }>(
      'SELECT state FROM decider_snapshots WHERE context = $1 AND topic = $2 AND partition = $3',
      [context.name, topic, partition],
    );
    if (!rows[0]) return undefined;
    try {
      return PartitionState.deserialize(context, rows[0].state);
    } catch {
      return undefined; // an unreadable snapshot (e.g. after a state shape change) is simply ignored
    }
  }

  /** Keeps the newest snapshot: an older one (from a slower writer) never replaces it. */
  async save(
    context: AnyBoundedContext,
    topic: string,
    partition: number,
    eventsOffset: number,
    state: Buffer,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO decider_snapshots (context, topic, partition, events_offset, state, created_at)
       VALUES ($1, $2, $3, $4, $5, NOW())
       ON CONFLICT (context, topic, partition) DO UPDATE
         SET events_offset = EXCLUDED.events_offset, state = EXCLUDED.state, created_at = NOW()
         WHERE decider_snapshots.events_offset < EXCLUDED.events_offset`,
      [context.name, topic, partition, eventsOffset, state],
    );
  }
}
