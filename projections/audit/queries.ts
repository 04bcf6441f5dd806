import type { Pool } from 'pg';
import { isUuid } from '../../domain/shared/ids';

// Queries over `audit_logs` (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export interface AuditEntry {
  event_id: string;
  /** The event type, e.g. `ResponseRecorded`. */
  type: string;
  /** Position of the event in its resource's stream, from 1. */
  version: number | null;
  occurred_at: string;
  /** Who did it: a user id (null for system processes) and its role. */
  actor: { id: string | null; role: string | null };
  summary: string;
}

/** Timeline of one resource (`assessment`, `user`, `role`, `question`, `credential`), oldest first. */
export async function historyOf(db: Db, resourceType: string, resourceId: string): Promise<AuditEntry[]> {
  if (!isUuid(resourceId)) return [];
  const { rows } = await db.query<{
    id: string;
    action: string;
    version: string | null;
    created_at: Date;
    actor_id: string | null;
    actor_role: string | null;
    summary: string | null;
  }>(
    `SELECT id, action, version, created_at, actor_id, actor_role, metadata->>'summary' AS summary
     FROM audit_logs WHERE resource_type = $1 AND resource_id = $2
     ORDER BY version NULLS LAST, created_at, id`,
    [resourceType, resourceId],
  );
  return rows.map((row) => ({
    event_id: row.id,
    type: row.action,
    version: row.version === null ? null : Number(row.version),
    occurred_at: row.created_at.toISOString(),
    actor: { id: row.actor_id, role: row.actor_role },
    summary: row.summary ?? row.action,
  }));
}
