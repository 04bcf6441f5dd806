import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import {
  abandonRebuild,
  interruptedRebuildOf,
  RebuildInterrupted,
  rebuildTargets,
  resumeRebuild,
  startRebuild,
  type RebuildDeps,
  type RunningRebuild,
} from '../../projections/runtime/rebuild/rebuild';
import { listRebuilds, RebuildError, type RebuildRecord } from '../../projections/runtime/rebuild/registry';
import { MessageCodec } from '../messaging/messageCodec';
import type { Platform } from '../platform/platform';
import { CliError, progressBar, withPlatform, writeOut, type CliIo } from './io';

interface RebuildOptions {
  all?: boolean;
  resume?: boolean;
  abandon?: boolean;
  id?: string;
  concurrency?: number;
  batchSize?: number;
  json?: boolean;
}

const positive = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return n;
};

/** The platform's clients, with the rebuild's log lines on stderr: stdout carries the result (`--json`). */
const depsOf = (platform: Platform, io: CliIo): RebuildDeps => ({
  ...platform,
  codec: new MessageCodec(platform.codec, platform.topics),
  logger: pino(
    { level: platform.logger.level, base: { service: 'microcred-cli' }, timestamp: pino.stdTimeFunctions.isoTime },
    io.stderr,
  ),
});

/** A refusal as the one line the user acts on. */
async function refusalsAsLines<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof RebuildError) throw new CliError(err.message);
    throw err;
  }
}

const seconds = (record: RebuildRecord) =>
  (new Date(record.finished_at ?? Date.now()).getTime() - new Date(record.started_at).getTime()) / 1000;

/** `projections rebuild` and `projections rebuilds`, added to the `projections` command. */
export function addRebuildCommands(projections: Command, io: CliIo): void {
  projections
    .command('rebuild')
    .description(
      'Rebuild projections from offset zero into a shadow schema while the live tables keep serving, then swap them in atomically',
    )
    .argument('[names...]', 'projections to rebuild together (see `projections status`)')
    .option('--all', 'every projection fed by the event log, in one read and one swap')
    .option('--resume', 'resume the interrupted rebuild of these projections, from where it stopped')
    .option('--abandon', 'drop the interrupted rebuild of these projections (the live tables stay as they are)')
    .option('--id <rebuild_id>', 'with --resume or --abandon: that rebuild')
    .option('--concurrency <n>', 'partitions applied at once (default 4)', positive(32))
    .option('--batch-size <n>', 'records read at a time (default 2000)', positive(100_000))
    .option('--json', 'print the rebuild as one JSON document')
    .addHelpText(
      'after',
      '\nReaders keep the live tables until the swap (one transaction). A second rebuild of a projection is refused\nwhile one runs; a rebuild whose process stopped is resumed with --resume or dropped with --abandon.\nProjections only write PostgreSQL: a rebuild sends no webhook and calls no LLM.',
    )
    .action(async (names: string[], options: RebuildOptions) => {
      if (options.resume && options.abandon) throw new CliError('--resume and --abandon exclude each other');
      if (options.all && names.length > 0) throw new CliError('name projections or give --all, not both');
      if (!options.all && names.length === 0 && !options.id) throw new CliError('name a projection, or give --all');
      if (options.id && !options.resume && !options.abandon) throw new CliError('--id goes with --resume or --abandon');
      await withPlatform(io, (platform) =>
        refusalsAsLines(async () => {
          const deps = depsOf(platform, io);
          const target = async () => {
            if (options.id) return options.id;
            const wanted = rebuildTargets(options.all ? 'all' : names, deps.topics).map((p) => p.name);
            const found = await interruptedRebuildOf(deps, wanted);
            if (!found) throw new CliError(`no interrupted rebuild of ${wanted.join(', ')}`);
            return found.id;
          };
          if (options.abandon) {
            const record = await abandonRebuild(deps, await target());
            await writeOut(
              io.stdout,
              options.json
                ? `${JSON.stringify({ rebuild: record })}\n`
                : `abandoned rebuild ${record.id} of ${record.projections.join(', ')}; the live tables are unchanged\n`,
            );
            return;
          }
          const controller = new AbortController();
          const bar = progressBar(io, 'rebuild', 'offsets');
          const run = {
            requestedBy: `cli:${process.env.USER ?? 'unknown'}`,
            signal: controller.signal,
            ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            ...(options.batchSize ? { batchSize: options.batchSize } : {}),
            onProgress: (p: { phase: string; records: number; offsets_done: number; offsets_total: number }) =>
              bar.update(p.offsets_done, Math.max(p.offsets_total, p.offsets_done), `${p.phase}, ${p.records} records`),
          };
          // Ctrl-C stops the rebuild cleanly: it stays resumable.
          const interrupt = () => controller.abort();
          process.once('SIGINT', interrupt);
          process.once('SIGTERM', interrupt);
          let running: RunningRebuild | undefined;
          try {
            running = options.resume
              ? await resumeRebuild(deps, await target(), run)
              : await startRebuild(deps, options.all ? 'all' : names, run);
            const record = await running.done;
            bar.stop();
            const took = seconds(record);
            const rate = Math.round(record.offsets_total / Math.max(0.001, took));
            await writeOut(
              io.stdout,
              options.json
                ? `${JSON.stringify({ rebuild: record, seconds: took, offsets_per_second: rate })}\n`
                : `rebuilt ${record.projections.join(', ')} from ${record.offsets_total} offsets in ${took.toFixed(1)} s (${rate}/s) and swapped them in (rebuild ${record.id})\n`,
            );
            for (const w of record.warnings) io.stderr.write(`warning: ${w}\n`);
          } catch (err) {
            bar.stop();
            if (err instanceof RebuildInterrupted) {
              const how = err.record.projections.join(' ');
              throw new CliError(
                `stopped; the live tables are unchanged. Resume with \`microcred projections rebuild ${how} --resume\` or drop it with \`--abandon\``,
              );
            }
            throw err;
          } finally {
            process.off('SIGINT', interrupt);
            process.off('SIGTERM', interrupt);
          }
        }),
      );
    });

  projections
    .command('rebuilds')
    .description("This system's projection rebuilds, newest first, with their status and progress")
    .option('--json', 'one JSON document: {rebuilds: [...]}')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(io, async (platform) => {
        const rebuilds = await listRebuilds(platform.pool, platform.config.KAFKA_TOPIC_PREFIX);
        if (options.json) return writeOut(io.stdout, `${JSON.stringify({ rebuilds })}\n`);
        const lines = rebuilds.map(
          (r) =>
            `${r.id}  ${r.status.padEnd(11)} ${r.phase.padEnd(9)} ${String(r.offsets_done).padStart(9)}/${r.offsets_total}  ${r.started_at}  ${r.projections.join(',')}${r.error ? `  (${r.error})` : ''}`,
        );
        await writeOut(io.stdout, lines.length > 0 ? `${lines.join('\n')}\n` : 'no rebuilds\n');
      });
    });
}
