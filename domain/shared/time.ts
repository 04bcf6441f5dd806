/**
 * Instants are ISO-8601 strings in commands and events. These helpers only parse and format
 * instants they are given; nothing here reads the clock.
 */

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or `undefined` when `value` is not an ISO-8601 instant with a zone. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string' || !isoInstant.test(value)) return undefined;
  const millis = Date.parse(value);
  return Number.isFinite(millis) ? millis : undefined;
}

/** The canonical form of an instant: UTC, millisecond precision (`2025-01-31T09:00:00.000Z`). */
export function formatInstant(millis: number): string {
  // Formats the given instant; this is not a clock read.
  return new Date(millis).toISOString();
}

/** Canonical form of an ISO instant string, or `undefined` when it is not one. */
export function canonicalInstant(value: unknown): string | undefined {
  const millis = parseInstant(value);
  return millis === undefined ? undefined : formatInstant(millis);
}
