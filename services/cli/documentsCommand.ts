import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { documentTextProblem, MAX_DOCUMENT_TITLE, sourceUriProblem } from '../../domain/catalog/knowledgeDocument';
import type { Actor } from '../../domain/shared/decider';
import { listDocuments, type KnowledgeDocumentView } from '../../projections/catalog/queries';
import { idFromKey } from '../api/commands/idempotency';
import type { CommandBus } from '../messaging/commandBus';
import { CliError, withBus, withPlatform, writeOut, type CliIo, textTable } from './io';

const SYSTEM: Actor = { id: 'system:cli', role: 'system' };

/** The file's text, or a CliError saying why it is not UTF-8 text (binary, another encoding). */
export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new CliError(`${file} is a binary file, not text (a NUL byte at byte ${nul}); nothing added`);
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    throw new CliError(
      `${file} is not UTF-8 text (byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at byte ${bad} starts no UTF-8 character); convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8) and try again; nothing added`,
    );
  }
  // A UTF-8 byte order mark is not part of the text.
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence, if any. */
function firstInvalidUtf8(bytes: Buffer): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [length, min, max] =
      b < 0x80
        ? [1, 0, 0]
        : b >= 0xc2 && b <= 0xdf
          ? [2, 0x80, 0xbf]
          : b === 0xe0
            ? [3, 0xa0, 0xbf]
            : b === 0xed
              ? [3, 0x80, 0x9f] // no surrogates
              : b >= 0xe1 && b <= 0xef
                ? [3, 0x80, 0xbf]
                : b === 0xf0
                  ? [4, 0x90, 0xbf]
                  : b >= 0xf1 && b <= 0xf3
                    ? [4, 0x80, 0xbf]
                    : b === 0xf4
                      ? [4, 0x80, 0x8f]
                      : [0, 0, 0];
    if (length === 0 || i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      const [lo, hi] = k === 1 ? [min, max] : [0x80, 0xbf];
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  return undefined;
}

export interface AddedDocument {
  document_id: string;
  title: string;
  source_uri: string;
  text_length: number;
  /** The same file was added before: nothing new. */
  already: boolean;
}

export interface DocumentToAdd {
  title: string;
  sourceUri: string;
  file: string;
  text: string;
}

/** Reads the file and checks title, URI and text by the domain's own rules, before any connection. */
export function prepareDocument(options: { title: string; sourceUri: string; file: string }): DocumentToAdd {
  const title = options.title.trim();
  if (title.length === 0 || title.length > MAX_DOCUMENT_TITLE) {
    throw new CliError(`--title must be 1 to ${MAX_DOCUMENT_TITLE} characters (got ${title.length})`);
  }
  const sourceUri = options.sourceUri.trim();
  const uriProblem = sourceUriProblem(sourceUri);
  if (uriProblem) throw new CliError(`--source-uri: ${uriProblem.replace(/^source_uri /, '')}`);
  const text = readTextFile(options.file);
  const textProblem = documentTextProblem(text);
  if (textProblem) throw new CliError(`${options.file}: ${textProblem.replace(/^text /, 'its text ')} Nothing added.`);
  return { title, sourceUri, file: options.file, text };
}

/**
 * `microcred documents add`: the AddKnowledgeDocument command the API sends, as the system
 * actor. The document id derives from the source URI (one document per source), the command id
 * from the title and text too, so adding the same file twice adds it once.
 */
export async function addDocument(bus: CommandBus, document: DocumentToAdd): Promise<AddedDocument> {
  const { title, sourceUri, text } = document;
  const document_id = idFromKey(SYSTEM.id, 'document', sourceUri, 'aggregate');
  const content = createHash('sha256').update(`${title}\u0000${text}`).digest('hex');
  const result = await bus.send(
    'catalog',
    {
      command_id: idFromKey(SYSTEM.id, `document:${sourceUri}`, content, 'command'),
      type: 'AddKnowledgeDocument',
      aggregate_id: document_id,
      issued_at: new Date().toISOString(),
      actor: SYSTEM,
      correlation_id: `cli-documents-add-${document_id}`,
      data: { document_id, title, source_uri: sourceUri, text },
    },
    30_000,
  );
  if (result.status === 'pending') {
    throw new CliError(
      `the catalog decider did not answer within 30 s; the document is in the log (command ${result.command_id})`,
    );
  }
  const { reply } = result;
  if (reply.outcome === 'rejected') {
    if (reply.error?.code === 'DOCUMENT_ALREADY_EXISTS') {
      throw new CliError(
        `a document from ${sourceUri} was added before (id ${document_id}) with another title or text; revise it with PUT /api/v1/catalog/documents/${document_id}, or give this one another --source-uri`,
      );
    }
    throw new CliError(`${document.file}: nothing added: ${reply.error?.message ?? reply.error?.code}`);
  }
  return {
    document_id,
    title,
    source_uri: sourceUri,
    text_length: text.length,
    already: reply.outcome === 'duplicate',
  };
}

/** Every document of the read model (all pages), active ones or all. */
export async function allDocuments(pool: Pool, includeRetired: boolean): Promise<KnowledgeDocumentView[]> {
  const out: KnowledgeDocumentView[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await listDocuments(pool, { page, pageSize: 100, includeRetired });
    out.push(...items);
    if (items.length === 0 || out.length >= total) return out;
  }
}

function table(docs: KnowledgeDocumentView[]): string {
  const header = ['document_id', 'version', 'status', 'characters', 'title', 'source_uri'];
  const rows = docs.map((d) => [d.document_id, d.version, d.status, String(d.text_length), d.title, d.source_uri]);
  return textTable(header, rows);
}

export function documentsCommand(io: CliIo): Command {
  const documents = new Command('documents').description(
    'Knowledge documents: guides whose passages are quoted as evidence for recommendations',
  );
  documents
    .command('add')
    .description('Add a UTF-8 text or markdown file as a knowledge document (idempotent per file and source URI)')
    .requiredOption('--title <title>', `the document's title (1 to ${MAX_DOCUMENT_TITLE} characters)`)
    .requiredOption('--source-uri <uri>', 'where it comes from, an absolute URI (https://…, urn:…)')
    .requiredOption('--file <path.md>', 'the text (UTF-8, at most 200,000 characters)')
    .option('--json', 'print {document_id, title, source_uri, text_length, already} as one JSON line')
    .action(async (options: { title: string; sourceUri: string; file: string; json?: boolean }) => {
      const document = prepareDocument(options);
      const added = await withBus(io, (_platform, bus) => addDocument(bus, document));
      await writeOut(
        io.stdout,
        options.json
          ? `${JSON.stringify(added)}\n`
          : added.already
            ? `document ${added.document_id} was added before from this file; nothing new\n`
            : `added document ${added.document_id} (${added.text_length} characters): ${added.title}\n`,
      );
    });
  documents
    .command('list')
    .description('The knowledge documents of the catalog (read model), by title')
    .option('--all', 'retired documents too')
    .option('--json', 'one JSON document: {items: [...]} (without the texts)')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const docs = await withPlatform(io, (platform) => allDocuments(platform.pool, options.all === true));
      await writeOut(
        io.stdout,
        options.json
          ? `${JSON.stringify({ items: docs })}\n`
          : docs.length === 0
            ? 'no documents\n'
            : `${table(docs)}\n`,
      );
    });
  return documents;
}
