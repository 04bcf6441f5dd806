import type { EventEnvelope } from '../messaging/envelopes';

/** Which events an export keeps; every given criterion must hold. */
export interface EventFilter {
  /** Event types to keep (any of them). */
  types?: readonly string[];
  aggregateId?: string;
  /** occurred_at ≥ from. */
  from?: Date;
  /** occurred_at < to. */
  to?: Date;
}

export function matches(filter: EventFilter, event: EventEnvelope): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  if (filter.aggregateId !== undefined && event.aggregate_id !== filter.aggregateId) return false;
  if (filter.from || filter.to) {
    const at = Date.parse(event.occurred_at);
    if (filter.from && !(at >= filter.from.getTime())) return false;
    if (filter.to && !(at < filter.to.getTime())) return false;
  }
  return true;
}
