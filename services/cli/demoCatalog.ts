import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { documentTextProblem } from '../../domain/catalog/knowledgeDocument';
import type { Actor } from '../../domain/shared/decider';
import type { CommandBus } from '../messaging/commandBus';
import type { ContextName } from '../messaging/envelopes';
import type { Logger } from '../platform/logger';
import { repoPath } from '../platform/paths';

export const DEMO_NAMESPACE = '6d0c2a8e-93b1-4f57-a0de-1c4b7e2f5a39';
const SYSTEM: Actor = { id: 'system:demo-catalog', role: 'system' };

export interface DemoCatalog {
  roles: {
    slug: string;
    name: string;
    description: string;
    skills_profile: unknown[];
    questions: {
      slug: string;
      question_type: string;
      prompt: string;
      choices: string[] | null;
      rubric: unknown;
      weight: number;
      required: boolean;
    }[];
  }[];
  credentials: {
    slug: string;
    title: string;
    description: string;
    skills: string[];
    provider: string;
    metadata: unknown;
  }[];
}

/**
 * Demo catalog ids are derived from slugs, so every load names the same roles and credentials.
 * Another namespace gives another copy of the catalog (tests: one per system, so that systems
 * sharing a database never share a demo role's students or feedback).
 */
export const demoId = (kind: string, slug: string, namespace = DEMO_NAMESPACE): string =>
  uuidv5(`${kind}:${slug}`, namespace);

/** services/cli/demo/catalog.json: the demo roles with their questions (answer keys included) and credentials. */
export function demoCatalogFile(file = repoPath('services', 'cli', 'demo', 'catalog.json')): DemoCatalog {
  return JSON.parse(readFileSync(file, 'utf8')) as DemoCatalog;
}

/** Where the demo knowledge documents say they come from: one stable URI per document. */
export const demoDocumentUri = (slug: string): string => `https://docs.microcred.example/guides/${slug}`;

export interface DemoDocument {
  slug: string;
  document_id: string;
  title: string;
  source_uri: string;
  text: string;
}

/**
 * The demo knowledge documents: services/cli/demo/documents/<slug>.md, in slug order. The title
 * is the file's first line (a `# ` heading); the text is the whole file, as it is.
 */
export function demoDocuments(
  dir = repoPath('services', 'cli', 'demo', 'documents'),
  namespace = DEMO_NAMESPACE,
): DemoDocument[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((file) => {
      const slug = file.replace(/\.md$/, '');
      const text = readFileSync(join(dir, file), 'utf8');
      const heading = /^# (.+)$/m.exec(text.split('\n', 1)[0] ?? '');
      if (!heading) throw new Error(`demo document ${file} must start with a "# Title" line`);
      const problem = documentTextProblem(text);
      if (problem) throw new Error(`demo document ${file}: ${problem}`);
      return {
        slug,
        document_id: demoId('document', slug, namespace),
        title: heading[1]!.trim(),
        source_uri: demoDocumentUri(slug),
        text,
      };
    });
}

/**
 * Loads services/cli/demo/catalog.json through the catalog decider. Command ids are derived
 * from the slugs too, so loading twice creates nothing twice.
 */
export async function loadDemoCatalog(
  bus: CommandBus,
  logger: Logger,
  options: { file?: string; documentsDir?: string; namespace?: string } = {},
) {
  const documentsDir = options.documentsDir ?? repoPath('services', 'cli', 'demo', 'documents');
  const namespace = options.namespace ?? DEMO_NAMESPACE;
  const id = (kind: string, slug: string) => demoId(kind, slug, namespace);
  const demo = demoCatalogFile(options.file);
  let created = 0;
  let already = 0;
  const send = async (context: ContextName, type: string, aggregate_id: string, data: Record<string, unknown>) => {
    const result = await bus.send(
      context,
      {
        command_id: id(`command:${type}`, aggregate_id),
        type,
        aggregate_id,
        issued_at: new Date().toISOString(),
        actor: SYSTEM,
        correlation_id: `demo-catalog-${aggregate_id}`,
        data,
      },
      30_000,
    );
    if (result.status === 'pending')
      throw new Error(`The catalog decider did not answer ${type} ${aggregate_id} within 30 s`);
    if (result.reply.outcome === 'rejected') {
      throw new Error(
        `Demo catalog ${type} ${aggregate_id} rejected: ${result.reply.error?.code} ${result.reply.error?.message}`,
      );
    }
    if (result.reply.outcome === 'accepted') created++;
    else already++;
  };
  for (const role of demo.roles) {
    const role_id = id('role', role.slug);
    await send('catalog', 'CreateRole', role_id, {
      role_id,
      name: role.name,
      description: role.description,
      skills_profile: role.skills_profile,
    });
    await Promise.all(
      role.questions.map((q) => {
        const question_id = id('question', q.slug);
        const { slug: _slug, ...definition } = q;
        return send('catalog', 'CreateQuestion', question_id, { ...definition, question_id, role_id });
      }),
    );
  }
  await Promise.all(
    demo.credentials.map((c) => {
      const credential_id = id('credential', c.slug);
      const { slug: _slug, ...definition } = c;
      return send('catalog', 'CreateCredential', credential_id, { ...definition, credential_id });
    }),
  );
  // Knowledge documents, whose passages become evidence (each carries its full text: one at a time).
  const documents = demoDocuments(documentsDir, namespace);
  for (const d of documents) {
    await send('catalog', 'AddKnowledgeDocument', d.document_id, {
      document_id: d.document_id,
      title: d.title,
      source_uri: d.source_uri,
      text: d.text,
    });
  }
  logger.info({ created, already, documents: documents.length }, 'demo catalog loaded');
  return {
    created,
    already,
    roles: demo.roles.map((r) => ({ role_id: id('role', r.slug), name: r.name })),
    documents: documents.map((d) => ({ document_id: d.document_id, title: d.title, source_uri: d.source_uri })),
  };
}
