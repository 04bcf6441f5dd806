import type { Pool } from 'pg';
import type { QuestionDefinition } from '../../domain/assessment/questionDefinition';
import type { SkillRequirement } from '../../domain/catalog/role';
import { isUuid } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';

// Queries over the catalog read models (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export interface RoleView {
  role_id: string;
  name: string;
  description: string | null;
  skills_profile: SkillRequirement[];
  active: boolean;
  /** How many active questions the role has (what an assessment of it would ask). */
  active_questions: number;
  created_at: string;
  updated_at: string;
}

/** A catalog question: its definition (type, prompt, choices, rubric, weight) and where it stands. */
export interface QuestionView extends QuestionDefinition {
  question_id: string;
  role_id: string;
  /** Catalog version of the question ("1", "2", …). */
  version: string;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface CredentialView {
  credential_id: string;
  title: string;
  description: string | null;
  skills: string[];
  provider: string | null;
  metadata: JsonObject | null;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  /** Matches across all pages. */
  total: number;
}

type Timestamps<T> = Omit<T, 'created_at' | 'updated_at'> & { created_at: Date; updated_at: Date };

function withIsoTimes<T extends { created_at: string; updated_at: string }>(row: Timestamps<T>): T {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() } as T;
}

const ROLE_SELECT = `
  SELECT r.id AS role_id, r.name, r.description, r.skills_profile, r.active, r.created_at, r.updated_at,
         (SELECT count(*) FROM questions q WHERE q.role_id = r.id AND q.active)::int AS active_questions
  FROM role_catalog r`;

/** Active roles, by name, each with its count of active questions. */
export async function listActiveRoles(db: Db): Promise<RoleView[]> {
  const { rows } = await db.query<Timestamps<RoleView>>(`${ROLE_SELECT} WHERE r.active ORDER BY r.name, r.id`);
  return rows.map(withIsoTimes);
}

/** A role, active or retired. */
export async function findRole(db: Db, roleId: string): Promise<RoleView | undefined> {
  if (!isUuid(roleId)) return undefined;
  const { rows } = await db.query<Timestamps<RoleView>>(`${ROLE_SELECT} WHERE r.id = $1`, [roleId]);
  return rows[0] && withIsoTimes(rows[0]);
}

type QuestionRow = Timestamps<Omit<QuestionView, 'weight'>> & { weight: string };

const QUESTION_SELECT = `
  SELECT id AS question_id, role_id, question_type, prompt, choices, rubric, weight, required, version, active, created_at, updated_at
  FROM questions`;

function toQuestion(row: QuestionRow): QuestionView {
  return withIsoTimes({ ...row, weight: Number(row.weight) });
}

/** The questions an assessment of the role asks, in a stable order (oldest first, then by id). */
export async function activeQuestionsOfRole(db: Db, roleId: string): Promise<QuestionView[]> {
  if (!isUuid(roleId)) return [];
  const { rows } = await db.query<QuestionRow>(
    `${QUESTION_SELECT} WHERE role_id = $1 AND active ORDER BY created_at, id`,
    [roleId],
  );
  return rows.map(toQuestion);
}

/** Every question of the role, retired ones included, in the same order. */
export async function listQuestionsOfRole(db: Db, roleId: string): Promise<QuestionView[]> {
  if (!isUuid(roleId)) return [];
  const { rows } = await db.query<QuestionRow>(`${QUESTION_SELECT} WHERE role_id = $1 ORDER BY created_at, id`, [
    roleId,
  ]);
  return rows.map(toQuestion);
}

/** The current version of a question, active or retired. */
export async function findQuestion(db: Db, questionId: string): Promise<QuestionView | undefined> {
  if (!isUuid(questionId)) return undefined;
  const { rows } = await db.query<QuestionRow>(`${QUESTION_SELECT} WHERE id = $1`, [questionId]);
  return rows[0] && toQuestion(rows[0]);
}

const CREDENTIAL_COLUMNS =
  'id AS credential_id, title, description, skills, provider, metadata, active, created_at, updated_at';

/**
 * Active credentials by title (then id), one page at a time (`page` counts from 1). With
 * `roleId`, only those sharing at least one skill with the role's skills profile, compared
 * case-insensitively; an unknown role matches nothing.
 */
export async function listCredentials(
  db: Db,
  options: { roleId?: string | null; page: number; pageSize: number },
): Promise<Page<CredentialView>> {
  const { roleId, page, pageSize } = options;
  if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a whole number from 1, got ${page}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a whole number from 1, got ${pageSize}`);
  }
  const byRole = roleId !== undefined && roleId !== null;
  if (byRole && !isUuid(roleId)) return { items: [], total: 0 };
  // One statement, so the page and the total come from the same snapshot. The total row is
  // joined to the page, so it comes back even when the page is past the end.
  const { rows } = await db.query<Timestamps<CredentialView> & { total: number }>(
    `WITH matching AS (
       SELECT ${CREDENTIAL_COLUMNS} FROM credential_catalog c
       WHERE c.active AND ($1::uuid IS NULL OR EXISTS (
         SELECT 1 FROM unnest(c.skills) AS s(skill)
         JOIN role_catalog r ON r.id = $1::uuid
         CROSS JOIN LATERAL jsonb_array_elements(COALESCE(r.skills_profile, '[]'::jsonb)) AS p(requirement)
         WHERE lower(s.skill) = lower(p.requirement->>'skill')))),
          page AS (SELECT * FROM matching ORDER BY title, credential_id LIMIT $2 OFFSET $3)
     SELECT counted.total, page.*
     FROM (SELECT count(*)::int AS total FROM matching) counted LEFT JOIN page ON TRUE
     ORDER BY page.title, page.credential_id`,
    [byRole ? roleId : null, pageSize, (page - 1) * pageSize],
  );
  const items = rows
    .filter((row) => row.credential_id !== null)
    .map(({ total: _total, ...row }) => withIsoTimes<CredentialView>(row));
  return { items, total: rows[0]?.total ?? 0 };
}

/** A credential, active or retired. */
export async function findCredential(db: Db, credentialId: string): Promise<CredentialView | undefined> {
  if (!isUuid(credentialId)) return undefined;
  const { rows } = await db.query<Timestamps<CredentialView>>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM credential_catalog WHERE id = $1`,
    [credentialId],
  );
  return rows[0] && withIsoTimes(rows[0]);
}

/** A knowledge document: its current version, where it stands, and (when asked for) its text. */
export interface KnowledgeDocumentView {
  document_id: string;
  title: string;
  source_uri: string;
  /** Document version ("1", "2", …). */
  version: string;
  status: 'active' | 'retired';
  /** Length of the text in characters (UTF-16 code units, as passage offsets count them). */
  text_length: number;
  /** The full text, exactly as added; left out of lists unless asked for. */
  text?: string;
  created_at: string;
  updated_at: string;
  retired_at: string | null;
}

type DocumentRow = Timestamps<Omit<KnowledgeDocumentView, 'retired_at'>> & { retired_at: Date | null };

function toDocument(row: DocumentRow): KnowledgeDocumentView {
  const { retired_at, ...rest } = row;
  const view = withIsoTimes<Omit<KnowledgeDocumentView, 'retired_at'>>(rest);
  if (view.text === null) delete view.text;
  return { ...view, retired_at: retired_at ? retired_at.toISOString() : null };
}

/** JavaScript's length (UTF-16 code units): the code points, plus one per character beyond U+FFFF. */
const UTF16_LENGTH = `(char_length(text) + char_length(regexp_replace(text, '[\\u0001-\\uFFFF]+', '', 'g')))::int`;

const documentColumns = (withText: boolean) =>
  `id AS document_id, title, source_uri, version, status, ${UTF16_LENGTH} AS text_length,
   ${withText ? 'text' : 'NULL::text AS text'}, created_at, updated_at, retired_at`;

/**
 * Knowledge documents by title (then id), one page at a time (`page` counts from 1): active ones,
 * or retired ones too with `includeRetired`. Without `withText`, the items leave their text out
 * (a document may hold 200,000 characters).
 */
export async function listDocuments(
  db: Db,
  options: { page: number; pageSize: number; includeRetired?: boolean; withText?: boolean },
): Promise<Page<KnowledgeDocumentView>> {
  const { page, pageSize } = options;
  if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a whole number from 1, got ${page}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`pageSize must be a whole number from 1, got ${pageSize}`);
  }
  // As listCredentials: page and total from one snapshot, the total even past the end.
  const { rows } = await db.query<DocumentRow & { total: number }>(
    `WITH matching AS (
       SELECT id, title FROM knowledge_documents WHERE $1::boolean OR status = 'active'),
          page AS (SELECT id FROM matching ORDER BY title, id LIMIT $2 OFFSET $3)
     SELECT counted.total, d.*
     FROM (SELECT count(*)::int AS total FROM matching) counted
     LEFT JOIN (SELECT ${documentColumns(options.withText === true)} FROM knowledge_documents
                WHERE id IN (SELECT id FROM page)) d ON TRUE
     ORDER BY d.title, d.document_id`,
    [options.includeRetired === true, pageSize, (page - 1) * pageSize],
  );
  const items = rows.filter((row) => row.document_id !== null).map(({ total: _total, ...row }) => toDocument(row));
  return { items, total: rows[0]?.total ?? 0 };
}

/** A knowledge document with its text, active or retired. */
export async function findDocument(db: Db, documentId: string): Promise<KnowledgeDocumentView | undefined> {
  if (!isUuid(documentId)) return undefined;
  const { rows } = await db.query<DocumentRow>(
    `SELECT ${documentColumns(true)} FROM knowledge_documents WHERE id = $1`,
    [documentId],
  );
  return rows[0] && toDocument(rows[0]);
}

/** One version of a document as it was added or revised (what a passage quoted then was cut from). */
export async function findDocumentVersion(
  db: Db,
  documentId: string,
  version: string,
): Promise<{ document_id: string; version: string; title: string; source_uri: string; text: string } | undefined> {
  if (!isUuid(documentId)) return undefined;
  const { rows } = await db.query<{
    document_id: string;
    version: string;
    title: string;
    source_uri: string;
    text: string;
  }>(
    `SELECT document_id, version, title, source_uri, text FROM knowledge_document_versions
     WHERE document_id = $1 AND version = $2`,
    [documentId, version],
  );
  return rows[0];
}
