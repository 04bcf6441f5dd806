import type { Pool } from 'pg';
import type { WritePosition } from '../../services/messaging/replyListener';

/**
 * Waits until `projection` has applied the record at `position` (its stored next offset is
 * past it), so a query that follows reflects the caller's write. Returns false on timeout:
 * the caller then answers from the read model as it is (and may say so).
 */
export async function waitForProjection(
  pool: Pool,
  projection: string,
  position: WritePosition | undefined,
  timeoutMs: number,
): Promise<boolean> {
  if (!position) return true;
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const { rows } = await pool.query<{ next_offset: string }>(
      'SELECT next_offset FROM projection_offsets WHERE projection = $1 AND topic = $2 AND partition = $3',
      [projection, position.topic, position.partition],
    );
    if (rows[0] && Number(rows[0].next_offset) > position.offset) return true;
    if (Date.now() + delay > deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
  }
}
