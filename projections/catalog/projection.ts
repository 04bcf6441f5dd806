import type { PoolClient } from 'pg';
import type { CatalogEvent } from '../../domain/catalog/decide';
import type { CredentialCreated, CredentialRetired, CredentialRevised } from '../../domain/catalog/credential';
import type {
  KnowledgeDocumentAdded,
  KnowledgeDocumentRetired,
  KnowledgeDocumentRevised,
} from '../../domain/catalog/knowledgeDocument';
import type { QuestionCreated, QuestionRetired, QuestionRevised } from '../../domain/catalog/question';
import type { RoleCreated, RoleRetired, RoleRevised } from '../../domain/catalog/role';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Catalog events → `role_catalog`, `questions` (the current version of each question),
 * `question_versions` (every version, immutable), `credential_catalog`, and
 * `knowledge_documents` (the current version of each document) with `knowledge_document_versions`.
 *
 * Each row remembers the last event version applied to it (`version`, or `stream_version` for
 * questions whose `version` is the catalog version), and changes only for a newer event: a
 * replayed older event never regresses a row.
 */
export const CATALOG_PROJECTION = 'catalog';

type Stored<E extends CatalogEvent> = StoredOf<E>;

export const catalogProjection: Projection = {
  name: CATALOG_PROJECTION,
  topics: (topics) => [topics.catalog.events],
  tables: [
    'role_catalog',
    'questions',
    'question_versions',
    'credential_catalog',
    'knowledge_documents',
    'knowledge_document_versions',
  ],
  async apply(client, record) {
    const event = record as Stored<CatalogEvent>;
    switch (event.type) {
      case 'RoleCreated':
      case 'RoleRevised':
        return roleDefined(client, event);
      case 'RoleRetired':
        return roleRetired(client, event);
      case 'QuestionCreated':
      case 'QuestionRevised':
        return questionVersioned(client, event);
      case 'QuestionRetired':
        return questionRetired(client, event);
      case 'CredentialCreated':
      case 'CredentialRevised':
        return credentialDefined(client, event);
      case 'CredentialRetired':
        return credentialRetired(client, event);
      case 'KnowledgeDocumentAdded':
      case 'KnowledgeDocumentRevised':
        return documentVersioned(client, event);
      case 'KnowledgeDocumentRetired':
        return documentRetired(client, event);
      default:
        return;
    }
  },
};

/** Created and revised both carry the complete definition. */
async function roleDefined(client: PoolClient, event: Stored<RoleCreated | RoleRevised>): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO role_catalog (id, name, description, skills_profile, active, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6)
     ON CONFLICT (id) DO UPDATE SET
       name = EXCLUDED.name, description = EXCLUDED.description, skills_profile = EXCLUDED.skills_profile,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
     WHERE role_catalog.version < EXCLUDED.version`,
    [d.role_id, d.name, d.description, JSON.stringify(d.skills_profile), event.version, event.occurred_at],
  );
}

async function roleRetired(client: PoolClient, event: Stored<RoleRetired>): Promise<void> {
  await client.query(
    'UPDATE role_catalog SET active = FALSE, version = $2, updated_at = $3 WHERE id = $1 AND version < $2',
    [event.data.role_id, event.version, event.occurred_at],
  );
}

/** A new question version: recorded for ever in question_versions, and made current in questions. */
async function questionVersioned(client: PoolClient, event: Stored<QuestionCreated | QuestionRevised>): Promise<void> {
  const d = event.data;
  const content = [
    d.question_id,
    d.version,
    d.role_id,
    d.question_type,
    d.prompt,
    json(d.choices),
    JSON.stringify(d.rubric),
    d.weight,
    d.required,
    event.occurred_at,
  ];
  await client.query(
    `INSERT INTO question_versions (question_id, version, role_id, question_type, prompt, choices, rubric, weight, required, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (question_id, version) DO NOTHING`,
    content,
  );
  await client.query(
    `INSERT INTO questions (id, version, role_id, question_type, prompt, choices, rubric, weight, required, active, stream_version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $11, $10, $10)
     ON CONFLICT (id) DO UPDATE SET
       version = EXCLUDED.version, role_id = EXCLUDED.role_id, question_type = EXCLUDED.question_type,
       prompt = EXCLUDED.prompt, choices = EXCLUDED.choices, rubric = EXCLUDED.rubric, weight = EXCLUDED.weight,
       required = EXCLUDED.required, stream_version = EXCLUDED.stream_version, updated_at = EXCLUDED.updated_at
     WHERE questions.stream_version < EXCLUDED.stream_version`,
    [...content, event.version],
  );
}

async function questionRetired(client: PoolClient, event: Stored<QuestionRetired>): Promise<void> {
  await client.query(
    `UPDATE questions SET active = FALSE, stream_version = $2, updated_at = $3
     WHERE id = $1 AND stream_version < $2`,
    [event.data.question_id, event.version, event.occurred_at],
  );
}

async function credentialDefined(
  client: PoolClient,
  event: Stored<CredentialCreated | CredentialRevised>,
): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO credential_catalog (id, title, description, skills, provider, metadata, active, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $8)
     ON CONFLICT (id) DO UPDATE SET
       title = EXCLUDED.title, description = EXCLUDED.description, skills = EXCLUDED.skills,
       provider = EXCLUDED.provider, metadata = EXCLUDED.metadata,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
     WHERE credential_catalog.version < EXCLUDED.version`,
    [d.credential_id, d.title, d.description, d.skills, d.provider, json(d.metadata), event.version, event.occurred_at],
  );
}

async function credentialRetired(client: PoolClient, event: Stored<CredentialRetired>): Promise<void> {
  await client.query(
    'UPDATE credential_catalog SET active = FALSE, version = $2, updated_at = $3 WHERE id = $1 AND version < $2',
    [event.data.credential_id, event.version, event.occurred_at],
  );
}

/** A new document version: kept in knowledge_document_versions, and made current in knowledge_documents. */
async function documentVersioned(
  client: PoolClient,
  event: Stored<KnowledgeDocumentAdded | KnowledgeDocumentRevised>,
): Promise<void> {
  const d = event.data;
  await client.query(
    `INSERT INTO knowledge_document_versions (document_id, version, title, source_uri, text, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (document_id, version) DO NOTHING`,
    [d.document_id, d.version, d.title, d.source_uri, d.text, event.occurred_at],
  );
  await client.query(
    `INSERT INTO knowledge_documents (id, title, source_uri, text, version, status, stream_version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $7)
     ON CONFLICT (id) DO UPDATE SET
       title = EXCLUDED.title, source_uri = EXCLUDED.source_uri, text = EXCLUDED.text, version = EXCLUDED.version,
       stream_version = EXCLUDED.stream_version, updated_at = EXCLUDED.updated_at
     WHERE knowledge_documents.stream_version < EXCLUDED.stream_version`,
    [d.document_id, d.title, d.source_uri, d.text, d.version, event.version, event.occurred_at],
  );
}

async function documentRetired(client: PoolClient, event: Stored<KnowledgeDocumentRetired>): Promise<void> {
  await client.query(
    `UPDATE knowledge_documents SET status = 'retired', retired_at = $3, stream_version = $2, updated_at = $3
     WHERE id = $1 AND stream_version < $2`,
    [event.data.document_id, event.version, event.occurred_at],
  );
}

/** JSON text for a jsonb parameter; a JSON null is stored as SQL NULL. */
function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
