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
  apply: (client: PoolClient, record: T & Position) => Promise<void>;
}
