import type { Pool } from 'pg';

/**
 * A projection's position in `projection_offsets`. ProjectionRunner stores it in the same
 * transaction as its rows (and locks it there); runners whose writes are not in PostgreSQL (the
 * search runner) store it after their idempotent external write, with `storeOffset`.
 */

/** Where each partition resumes: the stored next offset, or 0 (clamped to the log start) if none. */
export async function storedOffsets(
  pool: Pool,
  projection: string,
  partitions: { topic: string; partition: number }[],
): Promise<{ topic: string; partition: number; offset: number }[]> {
  if (partitions.length === 0) return [];
  const { rows } = await pool.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, partition, next_offset FROM projection_offsets WHERE projection = $1 AND topic = ANY($2)',
    [projection, [...new Set(partitions.map((p) => p.topic))]],
  );
  const stored = new Map(rows.map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset)]));
  return partitions.map((p) => ({ ...p, offset: stored.get(`${p.topic}/${p.partition}`) ?? 0 }));
}

/** The stored next offset of one partition (0 if none). */
export async function storedOffset(pool: Pool, projection: string, topic: string, partition: number): Promise<number> {
  const { rows } = await pool.query<{ next_offset: string }>({
    name: 'search-projection-offset-read',
    text: 'SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND partition = $3',
    values: [projection, topic, partition],
  });
  return rows[0] ? Number(rows[0].next_offset) : 0;
}

/** Moves a partition's position forward to `next` (never back: an overlapping runner may be ahead). */
export async function storeOffset(
  pool: Pool,
  projection: string,
  topic: string,
  partition: number,
  next: number,
): Promise<void> {
  await pool.query({
    name: 'search-projection-offset-store',
    text: `INSERT INTO projection_offsets (projection, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (projection, topic, partition) DO UPDATE
           SET next_offset = GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset), updated_at = NOW()`,
    values: [projection, topic, partition, next],
  });
}
