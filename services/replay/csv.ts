import type { LoggedEvent } from './eventLog';

/**
 * RFC 4180 output (no CSV library is installed): a field holding a comma, a double quote, CR
 * or LF is quoted, with each double quote doubled; records end with CRLF. Fields that start
 * with `=`, `+`, `-` or `@` are left as they are: this is an export for scripts, not a
 * spreadsheet.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(fields: readonly (string | number | null | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** The export's columns, in order (fixed: scripts may rely on them). */
export const EVENT_CSV_COLUMNS = [
  'event_id',
  'aggregate_id',
  'aggregate_type',
  'version',
  'type',
  'occurred_at',
  'actor_id',
  'actor_role',
  'correlation_id',
  'causation_id',
  'topic',
  'partition',
  'offset',
  'data',
] as const;

export const EVENT_CSV_HEADER = csvRecord(EVENT_CSV_COLUMNS);

/** One event as a CSV record; `data` is its JSON text. */
export function eventCsvRecord(event: LoggedEvent): string {
  return csvRecord([
    event.event_id,
    event.aggregate_id,
    event.aggregate_type,
    event.version,
    event.type,
    event.occurred_at,
    event.actor.id,
    event.actor.role,
    event.correlation_id,
    event.causation_id,
    event.topic,
    event.partition,
    event.offset,
    JSON.stringify(event.data),
  ]);
}
