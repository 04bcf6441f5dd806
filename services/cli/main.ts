#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { assessmentCommand } from './assessmentCommand';
import { deadLettersCommand } from './deadLettersCommand';
import { loadDemoCatalog } from './demoCatalog';
import { demoAssessmentCommand } from './demoAssessmentCommand';
import { documentsCommand } from './documentsCommand';
import { eventsCommand } from './eventsCommand';
import { importExamples } from './importExamples';
import { failureLine, processIo, withBus, writeOut, type CliIo } from './io';
import { projectionsCommand } from './projectionsCommand';
import { addWebhookDeliveryCommands } from './webhookDeliveriesCommand';
import { webhooksCommand } from './webhooksCommand';

/** Usage errors (unknown command or option, missing or invalid argument) exit with this code; failures with 1. */
export const USAGE_EXIT = 2;

/**
 * `microcred`: the operator's command line (commander). Every command has `--help`; results go
 * to stdout (`--json` for scripts), progress bars and messages to stderr.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('microcred')
    .description('Operate microcred: load and import catalog data, export and replay events, watch projections')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line, with the way to more help.
      outputError: (text, write) =>
        write(
          `microcred: ${text
            .replace(/^error:\s*/, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()} (see --help)\n`,
        ),
    });

  program
    .command('demo-catalog')
    .description('Load the demo catalog (idempotent); prints {created, already, roles} as one JSON line')
    .action(async () => {
      await withBus(io, async (platform, bus) => {
        const { created, already, roles } = await loadDemoCatalog(bus, platform.logger);
        await writeOut(io.stdout, `${JSON.stringify({ created, already, roles })}\n`);
      });
    });

  program
    .command('import-examples')
    .description("Import an essay question's human-scored examples (TSV with header text<TAB>score), all or nothing")
    .argument('<question_id>', 'the essay question')
    .argument('<file.tsv>', 'the examples')
    .option('--json', 'print {imported, import_id, already} as one JSON line')
    .action(async (questionId: string, file: string, options: { json?: boolean }) => {
      const result = await withBus(io, (platform, bus) =>
        importExamples({ bus, pool: platform.pool }, questionId, file),
      );
      await writeOut(
        io.stdout,
        options.json
          ? `${JSON.stringify(result)}\n`
          : result.already
            ? `imported ${result.imported} examples (this file was imported before; nothing new)\n`
            : `imported ${result.imported} examples\n`,
      );
    });

  program.addCommand(projectionsCommand(io));
  program.addCommand(deadLettersCommand(io));
  program.addCommand(eventsCommand(io));
  program.addCommand(assessmentCommand(io));
  program.addCommand(documentsCommand(io));
  program.addCommand(demoAssessmentCommand(io));
  // One `webhooks` command: the subscriptions' subcommands, then the deliveries'.
  program.addCommand(addWebhookDeliveryCommands(webhooksCommand(io), io));

  // Subcommands report their usage errors the same way as the program.
  const configure = (command: Command) => {
    command.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; usage errors were printed already.
      return err.exitCode === 0 ? 0 : USAGE_EXIT;
    }
    io.stderr.write(`microcred: ${failureLine(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
