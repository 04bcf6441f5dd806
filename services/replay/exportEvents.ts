import type { Writable } from 'node:stream';
import type { ContextName } from '../messaging/envelopes';
import { EVENT_CSV_HEADER, eventCsvRecord } from './csv';
import { CONTEXTS, type EventLog, type LoggedEvent, type ReadProgress } from './eventLog';
import { matches, type EventFilter } from './filter';

export type ExportFormat = 'ndjson' | 'csv';

/** One event as an NDJSON line: the envelope, where it sits in the log, and the broker timestamp. */
export function eventJsonLine(event: LoggedEvent): string {
  const { timestamp, ...rest } = event;
  return `${JSON.stringify({ ...rest, timestamp: timestamp === undefined ? null : new Date(timestamp).toISOString() })}\n`;
}

/** Resolves when `out` can take more (or is closed or failed: the next write reports it). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
  });
}

/**
 * Writes the events of the given contexts that pass `filter` to `out`, in partition then offset
 * order, honouring backpressure: when `out` is full the read waits for 'drain', so memory stays
 * bounded by one batch whatever the size of the log. Returns what was scanned and written.
 */
export async function exportEvents(options: {
  log: EventLog;
  contexts?: readonly ContextName[];
  filter: EventFilter;
  format: ExportFormat;
  out: Writable;
  onProgress?: (progress: ReadProgress & { exported: number }) => void;
}): Promise<{ scanned: number; exported: number }> {
  const { log, filter, format, out } = options;
  const topics = (options.contexts ?? CONTEXTS).map((c) => log.eventsTopic(c));
  const ranges = await log.ranges(topics, filter.aggregateId);
  let scanned = 0;
  let exported = 0;
  let failed: Error | undefined;
  const onError = (err: Error) => (failed = err);
  out.on('error', onError);
  const write = async (chunk: string) => {
    if (failed) throw failed;
    if (!out.write(chunk)) {
      await drained(out);
      if (failed) throw failed;
    }
  };
  try {
    if (format === 'csv') await write(EVENT_CSV_HEADER);
    const progress = (p: ReadProgress) => options.onProgress?.({ ...p, exported });
    for await (const event of log.events(ranges, progress)) {
      scanned++;
      if (!matches(filter, event)) continue;
      await write(format === 'csv' ? eventCsvRecord(event) : eventJsonLine(event));
      exported++;
    }
  } finally {
    out.off('error', onError);
  }
  return { scanned, exported };
}
