import { Command, InvalidArgumentError } from 'commander';
import { allProjections } from '../../projections';
import { listDeadLetters, replayDeadLetters, type DeadLetter } from '../../projections/runtime/deadLetters';
import { MessageCodec } from '../messaging/messageCodec';
import { CliError, withPlatform, writeOut, type CliIo } from './io';

function projectionNamed(name: string) {
  const projection = allProjections.find((p) => p.name === name);
  if (!projection) {
    throw new CliError(`no projection named "${name}"; known: ${allProjections.map((p) => p.name).join(', ')}`);
  }
  return projection;
}

function status(value: string): 'open' | 'replayed' | 'all' {
  if (value === 'open' || value === 'replayed' || value === 'all') return value;
  throw new InvalidArgumentError('expected open, replayed or all');
}

function table(letters: DeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters\n';
  return (
    letters
      .map((l) =>
        [
          l.projection,
          `${l.topic}/${l.partition}@${l.offset}`,
          l.aggregate_id,
          l.event_type ?? '-',
          l.reason,
          l.status,
          `${l.error.name}: ${l.error.message}`,
        ].join('  '),
      )
      .join('\n') + '\n'
  );
}

/**
 * `microcred deadletters`: the projections' poison events (this system's topics only) and their
 * replay once the cause is fixed. The processors' intakes dead-letter the same way; their letters
 * are listed here, and replayed by the process that runs them (it holds their dependencies).
 */
export function deadLettersCommand(io: CliIo): Command {
  const command = new Command('deadletters').description(
    "Events a projection could not decode or apply, set aside with their aggregate's later events",
  );
  command
    .command('list')
    .description('List dead letters (default: open ones) of every projection, or of one')
    .option('--projection <name>', 'only this projection')
    .option('--status <status>', 'open, replayed or all', status, 'open')
    .option('--json', 'one JSON document: {dead_letters: [...]}')
    .action(async (options: { projection?: string; status: 'open' | 'replayed' | 'all'; json?: boolean }) => {
      await withPlatform(io, async (platform) => {
        const letters = await listDeadLetters(platform.pool, {
          ...(options.projection ? { projection: options.projection } : {}),
          ...(options.status === 'all' ? {} : { status: options.status }),
          topicPrefix: `${platform.config.KAFKA_TOPIC_PREFIX}.`,
        });
        await writeOut(io.stdout, options.json ? `${JSON.stringify({ dead_letters: letters })}\n` : table(letters));
      });
    });
  command
    .command('replay')
    .description('Apply the open dead letters again, in log order per aggregate; ones that fail again stay open')
    .option('--projection <name>', 'only this projection (default: every projection with open letters)')
    .option('--json', 'one JSON document per projection: {projection, replayed, open, failures}')
    .action(async (options: { projection?: string; json?: boolean }) => {
      await withPlatform(io, async (platform) => {
        const topicPrefix = `${platform.config.KAFKA_TOPIC_PREFIX}.`;
        const open = await listDeadLetters(platform.pool, { status: 'open', topicPrefix });
        const names = options.projection
          ? [projectionNamed(options.projection).name]
          : [...new Set(open.map((l) => l.projection))].filter((n) => allProjections.some((p) => p.name === n));
        const codec = new MessageCodec(platform.codec, platform.topics);
        let stillOpen = 0;
        for (const name of names) {
          const result = await replayDeadLetters(platform.pool, codec, projectionNamed(name), { topicPrefix });
          stillOpen += result.open;
          await writeOut(
            io.stdout,
            options.json
              ? `${JSON.stringify({ projection: name, ...result })}\n`
              : `${name}: ${result.replayed} replayed, ${result.open} still open${result.failures
                  .map((f) => `\n  ${f.aggregate_id}@${f.offset}: ${f.error.name}: ${f.error.message}`)
                  .join('')}\n`,
          );
        }
        if (names.length === 0) await writeOut(io.stdout, options.json ? '' : 'no open dead letters\n');
        if (stillOpen > 0) throw new CliError(`${stillOpen} dead letters are still open`);
      });
    });
  return command;
}
