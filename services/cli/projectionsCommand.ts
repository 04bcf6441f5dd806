import { Command } from 'commander';
import { MessageCodec } from '../messaging/messageCodec';
import { EventLog } from '../replay/eventLog';
import { projectionStatus, type PartitionLag } from '../replay/projectionStatus';
import { withPlatform, writeOut, type CliIo, textTable } from './io';
import { addRebuildCommands } from './rebuildCommand';

function table(rows: PartitionLag[]): string {
  const header = ['projection', 'topic', 'partition', 'applied', 'end', 'lag_events', 'lag_seconds'];
  const lines = rows.map((r) => [
    r.projection,
    r.topic,
    String(r.partition),
    String(r.applied_offset),
    String(r.end_offset),
    `${r.lag_exact ? '' : '≥'}${r.lag_events}`,
    String(r.lag_seconds),
  ]);
  return textTable(header, lines) + '\n';
}

export function projectionsCommand(io: CliIo): Command {
  const projections = new Command('projections').description('Read models and processor intakes');
  projections
    .command('status')
    .description(
      'Per projection and partition: applied offset, end offset (high watermark), lag in events and in seconds (age of the oldest unapplied event)',
    )
    .option('--json', 'one JSON document: {projections: [...]}')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(io, async (platform) => {
        const log = await EventLog.open({
          ...platform,
          codec: new MessageCodec(platform.codec, platform.topics),
          name: `cli-status-${process.pid}`,
        });
        try {
          const rows = await projectionStatus({
            pool: platform.pool,
            admin: platform.kafkaAdmin,
            log,
            topics: platform.topics,
          });
          await writeOut(io.stdout, options.json ? `${JSON.stringify({ projections: rows })}\n` : table(rows));
        } finally {
          await log.close();
        }
      });
    });
  addRebuildCommands(projections, io);
  return projections;
}
