import type { CommandReply } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/** Replies → command_outcomes. A duplicate reply never overwrites the first outcome. */
export const commandOutcomesProjection: Projection<CommandReply> = {
  name: 'command_outcomes',
  topics: (topics) => [topics.replies],
  tables: ['command_outcomes'],
  async apply(client, reply) {
    if (reply.outcome === 'duplicate') return;
    await client.query(
      `INSERT INTO command_outcomes (command_id, context, command_type, aggregate_id, issued_by, outcome, error, events, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (command_id) DO NOTHING`,
      [
        reply.command_id,
        reply.context,
        reply.command_type,
        reply.aggregate_id,
        /^[0-9a-f-]{36}$/i.test(reply.issued_by.id) ? reply.issued_by.id : null,
        reply.outcome,
        reply.error ? JSON.stringify(reply.error) : null,
        reply.events.length,
        reply.decided_at,
      ],
    );
  },
};

export interface CommandOutcomeRow {
  command_id: string;
  context: string;
  aggregate_id: string;
  issued_by: string | null;
  outcome: 'accepted' | 'rejected';
  error: { code: string; kind: string; message: string; details: unknown } | null;
  events: number;
}

export async function findCommandOutcome(
  pool: { query: (sql: string, params: unknown[]) => Promise<{ rows: CommandOutcomeRow[] }> },
  commandId: string,
): Promise<CommandOutcomeRow | undefined> {
  const { rows } = await pool.query(
    'SELECT command_id, context, aggregate_id, issued_by, outcome, error, events FROM command_outcomes WHERE command_id = $1',
    [commandId],
  );
  return rows[0];
}
