import { Command, InvalidArgumentError, Option } from 'commander';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { MessageCodec } from '../messaging/messageCodec';
import type { ContextName } from '../messaging/envelopes';
import { EventLog } from '../replay/eventLog';
import { exportEvents, type ExportFormat } from '../replay/exportEvents';
import { parseInstant } from '../replay/instant';
import { CliError, progressBar, withPlatform, type CliIo } from './io';

export function instantArg(value: string): Date {
  const at = parseInstant(value);
  if (!at) throw new InvalidArgumentError(`"${value}" is not an ISO 8601 instant (e.g. 2026-03-01T12:00:00Z)`);
  return at;
}

const listArg = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

interface ExportOptions {
  context?: ContextName;
  from?: Date;
  to?: Date;
  type?: string[];
  aggregate?: string;
  format: ExportFormat;
  output?: string;
}

/** Opens the output: stdout, or a new file (its errors reported as one line). */
async function openOutput(io: CliIo, file: string | undefined): Promise<{ out: Writable; done: () => Promise<void> }> {
  if (!file) return { out: io.stdout, done: async () => undefined };
  const out = createWriteStream(file, { flags: 'w' });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', (err: NodeJS.ErrnoException) =>
      reject(new CliError(`cannot write ${file}: ${err.code ?? err.message}`)),
    );
  });
  return {
    out,
    done: () =>
      new Promise<void>((resolve, reject) => {
        out.once('error', reject);
        out.end(() => resolve());
      }),
  };
}

export function eventsCommand(io: CliIo): Command {
  const events = new Command('events').description('Read the event log');
  events
    .command('export')
    .description(
      'Export events decoded through the schema registry, in partition then offset order, streamed in constant memory',
    )
    .addOption(
      new Option('--context <context>', 'only this bounded context (default: all)').choices([
        'assessment',
        'catalog',
        'identity',
      ]),
    )
    .option('--from <iso>', 'only events that occurred at or after this instant', instantArg)
    .option('--to <iso>', 'only events that occurred before this instant', instantArg)
    .option('--type <EventType>', 'only events of this type (repeat or comma-separate for several)', listArg)
    .option('--aggregate <id>', "only this aggregate's events (reads just the partition its id maps to)")
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).makeOptionMandatory())
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (options: ExportOptions) => {
      if (options.from && options.to && options.from >= options.to) throw new CliError('--from must be before --to');
      await withPlatform(io, async (platform) => {
        const codec = new MessageCodec(platform.codec, platform.topics);
        const log = await EventLog.open({ ...platform, codec, name: `cli-export-${process.pid}` });
        const { out, done } = await openOutput(io, options.output);
        const bar = progressBar(io, 'events export', 'offsets');
        try {
          const result = await exportEvents({
            log,
            ...(options.context ? { contexts: [options.context] } : {}),
            filter: {
              ...(options.type ? { types: options.type } : {}),
              ...(options.aggregate ? { aggregateId: options.aggregate } : {}),
              ...(options.from ? { from: options.from } : {}),
              ...(options.to ? { to: options.to } : {}),
            },
            format: options.format,
            out,
            onProgress: (p) => bar.update(p.done, p.total, `${p.exported} exported`),
          });
          bar.stop();
          await done();
          if (options.output || io.stderr.isTTY) {
            io.stderr.write(`exported ${result.exported} of ${result.scanned} events\n`);
          }
        } catch (err) {
          bar.stop();
          // The reader of our stdout went away (`| head`): that is the end of the export, not a failure.
          if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
          throw err;
        } finally {
          await log.close();
        }
      });
    });
  return events;
}
