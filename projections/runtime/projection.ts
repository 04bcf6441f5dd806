import type { PoolClient } from 'pg';
import type { EventEnvelope, Position } from '../../services/messaging/envelopes';
import type { Topics } from '../../services/platform/config';

/**
 * A read model fed by topics (usually event topics; `T` is the decoded record). `apply` runs
 * inside the PostgreSQL transaction that also stores the consumed offset, so each record lands
 * exactly once. It must be deterministic and must not call anything outside PostgreSQL.
 */
export interface Projection<T = EventEnvelope> {
  name: string;
  topics: (topics: Topics) => string[];
  /**
   * The tables this projection writes and nothing else writes: what a rebuild builds from offset
   * zero into a shadow schema and swaps in (projections/runtime/rebuild). No table may belong to
   * two projections.
   */
  tables: readonly string[];
  /** Decodes a record that is not an event envelope (default: the value through the registry). */
  decode?: (record: RawRecord) => Promise<{ schemaId: number; value: T }>;
  apply: (client: PoolClient, record: T & Position) => Promise<void>;
}

/** A record as consumed, for a projection's own `decode` (e.g. CloudEvents attributes in headers). */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | string | null;
  value: Buffer;
  headers: Record<string, Buffer | string | undefined>;
}
