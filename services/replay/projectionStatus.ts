import type { Pool } from 'pg';
import { allProjections } from '../../projections';
import type { Topics } from '../platform/config';
import { endOffsets } from '../platform/kafka/admin';
import type { Admin } from '../platform/kafka/kafka';
import type { EventLog, PartitionRange } from './eventLog';

/** How far one projection (or processor intake) is behind on one partition. */
export interface PartitionLag {
  projection: string;
  topic: string;
  partition: number;
  /** The next offset the projection will apply (`projection_offsets.next_offset`; 0 if it never ran). */
  applied_offset: number;
  /** The partition's high watermark. */
  end_offset: number;
  /** Committed records not applied yet (offsets also count transaction markers; this does not). */
  lag_events: number;
  /** Age of the oldest unapplied record, from its broker timestamp; 0 when caught up. */
  lag_seconds: number;
  /** False when there were too many unapplied records to count: `lag_events` is then the offset distance. */
  lag_exact: boolean;
}

/** Past this many unapplied records on a partition, the lag is estimated from offsets instead of counted. */
const COUNT_LIMIT = 10_000;

/** Every topic name of this deployment (its prefix). */
function allTopics(topics: Topics): string[] {
  return Object.values(topics).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
}

/**
 * The lag of every projection in `allProjections` and of every processor intake (`processor.*`,
 * found in `projection_offsets`), per partition of the topics each reads.
 */
export async function projectionStatus(deps: {
  pool: Pool;
  admin: Admin;
  log: EventLog;
  topics: Topics;
  now?: () => number;
}): Promise<PartitionLag[]> {
  const now = deps.now ?? Date.now;
  const ours = allTopics(deps.topics);
  const { rows } = await deps.pool.query<{ projection: string; topic: string; partition: number; next_offset: string }>(
    'SELECT projection, topic, partition, next_offset FROM projection_offsets WHERE topic = ANY($1)',
    [ours],
  );
  const applied = new Map(rows.map((r) => [`${r.projection}|${r.topic}|${r.partition}`, Number(r.next_offset)]));
  const readers = new Map<string, Set<string>>();
  for (const p of allProjections) readers.set(p.name, new Set(p.topics(deps.topics)));
  for (const r of rows
    .filter((row) => row.projection.startsWith('processor.'))
    .sort((a, b) => a.projection.localeCompare(b.projection))) {
    if (!readers.has(r.projection)) readers.set(r.projection, new Set());
    readers.get(r.projection)!.add(r.topic);
  }

  const topicEnds = new Map<string, { written: Map<number, number>; stable: Map<number, number> }>();
  for (const topic of new Set([...readers.values()].flatMap((t) => [...t]))) {
    const [written, stable] = await Promise.all([
      endOffsets(deps.admin, topic, 'written'),
      endOffsets(deps.admin, topic, 'committed'),
    ]);
    topicEnds.set(topic, { written, stable });
  }

  // Every (topic, partition, applied offset) behind its last stable offset, counted in one read.
  const behind = new Map<string, PartitionRange>();
  for (const [projection, topics] of readers) {
    for (const topic of topics) {
      for (const [partition, stable] of topicEnds.get(topic)!.stable) {
        const from = applied.get(`${projection}|${topic}|${partition}`) ?? 0;
        if (from < stable) behind.set(`${topic}|${partition}|${from}`, { topic, partition, from, to: stable });
      }
    }
  }
  // One count per distinct start offset of a partition (projections that agree share it).
  const counted = new Map<string, { count: number; first: number | undefined; exact: boolean }>();
  // A reader takes a partition once per assignment: ranges of one partition go to successive rounds.
  const rounds: PartitionRange[][] = [];
  const roundsOf = new Map<string, number>();
  for (const r of behind.values()) {
    const k = `${r.topic}|${r.partition}`;
    const round = roundsOf.get(k) ?? 0;
    roundsOf.set(k, round + 1);
    (rounds[round] ??= []).push(r);
  }
  for (const group of rounds) {
    const counts = await deps.log.count(group, COUNT_LIMIT);
    for (const r of group) counted.set(`${r.topic}|${r.partition}|${r.from}`, counts.get(`${r.topic}|${r.partition}`)!);
  }

  const out: PartitionLag[] = [];
  for (const [projection, topics] of readers) {
    for (const topic of [...topics].sort()) {
      const ends = topicEnds.get(topic)!;
      for (const partition of [...ends.written.keys()].sort((a, b) => a - b)) {
        const next = applied.get(`${projection}|${topic}|${partition}`) ?? 0;
        const end = ends.written.get(partition) ?? 0;
        const stable = ends.stable.get(partition) ?? 0;
        const found = next < stable ? counted.get(`${topic}|${partition}|${next}`) : undefined;
        const { first: oldest, exact } = found ?? { first: undefined, exact: true };
        const count = found ? (exact ? found.count : stable - next) : 0;
        out.push({
          projection,
          topic,
          partition,
          applied_offset: next,
          end_offset: end,
          lag_events: count,
          lag_seconds: count > 0 && oldest !== undefined ? Math.max(0, Math.round((now() - oldest) / 100) / 10) : 0,
          lag_exact: exact,
        });
      }
    }
  }
  return out;
}
