import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { Actor } from '../../domain/shared/decider';
import { isUuid } from '../../domain/shared/ids';
import { findQuestion } from '../../projections/catalog/queries';
import { idFromKey } from '../api/commands/idempotency';
import type { CommandBus } from '../messaging/commandBus';
import { TsvFormatError, parseScoredExamplesTsv } from '../processors/essayScoring/offline/scoredExamplesTsv';

const SYSTEM: Actor = { id: 'system:cli', role: 'system' };

/** A refusal the CLI prints as is (no stack trace) before exiting non-zero. */
export class CliError extends Error {}

/**
 * `microcred import-examples <question_id> <file.tsv>`: the same ImportScoredExamples command
 * the API sends for a TSV upload, parsed by the same parser, as the system actor. The import id
 * derives from the file's content, so importing the same file twice imports it once.
 */
export async function importExamples(
  deps: { bus: CommandBus; pool: Pool },
  questionId: string,
  file: string,
): Promise<{ imported: number; import_id: string; already: boolean }> {
  if (!isUuid(questionId)) throw new CliError(`"${questionId}" is not a question id (a UUID)`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const question = await findQuestion(deps.pool, questionId);
  if (!question) throw new CliError(`no question ${questionId} in the catalog`);
  if (question.question_type !== 'essay') {
    throw new CliError(`question ${questionId} is a ${question.question_type} question; examples are for essays`);
  }
  let rows;
  try {
    rows = parseScoredExamplesTsv(content, { min: 0, max: question.weight });
  } catch (err) {
    if (err instanceof TsvFormatError)
      throw new CliError(`${file}: nothing imported: line ${err.line}: ${err.problem}`);
    throw err;
  }
  if (rows.length === 0) throw new CliError(`${file}: nothing imported: no examples after the header`);

  const key = createHash('sha256').update(content).digest('hex');
  const scope = `scored-examples:${questionId}`;
  const import_id = idFromKey(SYSTEM.id, scope, key, 'aggregate');
  const result = await deps.bus.send(
    'catalog',
    {
      command_id: idFromKey(SYSTEM.id, scope, key, 'command'),
      type: 'ImportScoredExamples',
      aggregate_id: questionId,
      issued_at: new Date().toISOString(),
      actor: SYSTEM,
      correlation_id: `cli-import-examples-${import_id}`,
      data: { question_id: questionId, import_id, examples: rows.map(({ text, score }) => ({ text, score })) },
    },
    30_000,
  );
  if (result.status === 'pending') {
    throw new CliError(
      `the catalog decider did not answer within 30 s; the import is in the log (command ${result.command_id})`,
    );
  }
  const { reply } = result;
  if (reply.outcome === 'rejected') {
    const index = (reply.error?.details as { index?: unknown } | null)?.index;
    const line = typeof index === 'number' ? rows[index]?.line : undefined;
    throw new CliError(
      `${file}: nothing imported: ${line !== undefined ? `line ${line}: ` : ''}${reply.error?.message ?? reply.error?.code}`,
    );
  }
  return { imported: rows.length, import_id, already: reply.outcome === 'duplicate' };
}
