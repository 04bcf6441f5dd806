import { Command, InvalidArgumentError } from 'commander';
import { isUuid } from '../../domain/shared/ids';
import { MessageCodec } from '../messaging/messageCodec';
import { assessmentAt, type AssessmentAt } from '../replay/assessmentReplay';
import { EventLog } from '../replay/eventLog';
import { CliError, withPlatform, writeOut, type CliIo } from './io';
import { instantArg } from './eventsCommand';

const idArg = (value: string): string => {
  if (!isUuid(value)) throw new InvalidArgumentError(`"${value}" is not an assessment id (a UUID)`);
  return value.toLowerCase();
};

async function replay(io: CliIo, id: string, asOf: Date | undefined): Promise<AssessmentAt> {
  return withPlatform(io, async (platform) => {
    const log = await EventLog.open({
      ...platform,
      codec: new MessageCodec(platform.codec, platform.topics),
      name: `cli-assessment-${process.pid}`,
    });
    try {
      const found = await assessmentAt(log, id, asOf);
      if (found.events.length === 0) {
        throw new CliError(
          asOf
            ? `assessment ${id} has no events at or before ${asOf.toISOString()}`
            : `no assessment ${id} in the event log`,
        );
      }
      return found;
    } finally {
      await log.close();
    }
  });
}

export function assessmentCommand(io: CliIo): Command {
  const assessment = new Command('assessment').description(
    'One assessment recomputed from the event log (its partition scanned from the start), not from the read model',
  );
  assessment
    .command('history')
    .description("The assessment's events, oldest first, up to an instant")
    .argument('<id>', 'assessment id', idArg)
    .option('--as-of <iso>', 'only events that occurred at or before this instant', instantArg)
    .option('--json', "one JSON document: {assessment_id, as_of, events: [...]} with each event's data")
    .action(async (id: string, options: { asOf?: Date; json?: boolean }) => {
      const { events } = await replay(io, id, options.asOf);
      if (options.json) {
        await writeOut(
          io.stdout,
          `${JSON.stringify({
            assessment_id: id,
            as_of: options.asOf?.toISOString() ?? null,
            events: events.map(({ timestamp: _t, schema_id: _s, ...e }) => e),
          })}\n`,
        );
        return;
      }
      for (const e of events) {
        await writeOut(
          io.stdout,
          `${String(e.version).padStart(3)}  ${e.occurred_at}  ${e.type.padEnd(22)}  ${e.actor.role}:${e.actor.id}\n`,
        );
      }
    });
  assessment
    .command('state')
    .description("The assessment's state at an instant, folded from its events by the domain's evolve")
    .argument('<id>', 'assessment id', idArg)
    .requiredOption('--as-of <iso>', 'the instant', instantArg)
    .option('--json', 'compact JSON on one line (default: indented)')
    .action(async (id: string, options: { asOf: Date; json?: boolean }) => {
      const { events, state } = await replay(io, id, options.asOf);
      const doc = {
        assessment_id: id,
        as_of: options.asOf.toISOString(),
        version: events[events.length - 1]!.version,
        state,
      };
      await writeOut(io.stdout, `${JSON.stringify(doc, null, options.json ? undefined : 2)}\n`);
    });
  return assessment;
}
