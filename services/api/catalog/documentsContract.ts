import type { FromSchema } from 'json-schema-to-ts';
import { MAX_DOCUMENT_TEXT, MAX_DOCUMENT_TITLE, MAX_SOURCE_URI } from '../../../domain/catalog/knowledgeDocument';
import { NO_CONTROL_CHARACTERS, uuidInput } from '../openapi/requestConstraints';
import {
  authenticatedErrors,
  dateTime,
  errorResponse,
  jsonBody,
  jsonResponse,
  parameter,
  response,
  schema,
} from '../openapi/helpers';

/**
 * The contract of the catalog's knowledge documents: guides an admin loads, whose passages
 * retrieval quotes as evidence. Merged into the served document by `openapi/document.ts`.
 */

/** The largest document body; a text within MAX_DOCUMENT_TEXT characters always fits (beyond: 413). */
export const DOCUMENT_BODY_LIMIT = '4mb';

const limits = `title 1 to ${MAX_DOCUMENT_TITLE} characters on one line; source_uri an absolute URI (https://…, urn:…); text not blank, at most ${MAX_DOCUMENT_TEXT.toLocaleString('en-US')} characters, plain text (no NUL or other control characters but tab, LF and CR; no U+FFFD from a bad decode). A violation is 422 INVALID_DOCUMENT naming the field (details.field).`;

// Lengths and content are checked by the domain (422 INVALID_DOCUMENT, one clear message), not
// here (that would be a 400 listing schema keywords): only the shape is, and that a title is one
// line (no control characters; the domain refuses them too).
export const KnowledgeDocumentInput = {
  type: 'object',
  description: `A knowledge document to add: ${limits} The text is stored exactly as sent (passages are quoted from it by character offsets).`,
  required: ['title', 'source_uri', 'text'],
  additionalProperties: false,
  properties: {
    title: {
      type: 'string',
      pattern: NO_CONTROL_CHARACTERS,
      description: `1 to ${MAX_DOCUMENT_TITLE} characters, one line (no control characters U+0000–U+001F or U+007F)`,
    },
    source_uri: {
      type: 'string',
      description: `Where the document comes from, quoted with its passages (at most ${MAX_SOURCE_URI} characters)`,
    },
    text: { type: 'string', description: `Plain text or markdown, at most ${MAX_DOCUMENT_TEXT} characters` },
  },
} as const;
export type KnowledgeDocumentInputBody = FromSchema<typeof KnowledgeDocumentInput>;

export const KnowledgeDocumentRevisionInput = {
  type: 'object',
  description: `A revision: the fields given (not null) replace the current ones, and the document becomes its next version. Same rules as an addition: ${limits}`,
  additionalProperties: false,
  properties: {
    title: { type: 'string', nullable: true, pattern: NO_CONTROL_CHARACTERS },
    source_uri: { type: 'string', nullable: true },
    text: { type: 'string', nullable: true },
  },
} as const;
export type KnowledgeDocumentRevisionBody = FromSchema<typeof KnowledgeDocumentRevisionInput>;

export const documentSchemas = {
  KnowledgeDocumentInput,
  KnowledgeDocumentRevisionInput,
  KnowledgeDocument: {
    type: 'object',
    required: [
      'document_id',
      'title',
      'source_uri',
      'version',
      'status',
      'active',
      'text_length',
      'created_at',
      'updated_at',
      'retired_at',
    ],
    properties: {
      document_id: { type: 'string', format: 'uuid' },
      title: { type: 'string' },
      source_uri: { type: 'string' },
      version: { type: 'string', description: '"1" when added, then "2", "3", … per revision' },
      status: { type: 'string', enum: ['active', 'retired'] },
      active: { type: 'boolean', description: 'Retired documents are never retrieved as evidence' },
      text_length: {
        type: 'integer',
        description: 'Length of the text in UTF-16 code units, the unit of evidence offsets (start, end)',
      },
      text: {
        type: 'string',
        description:
          'The full text, exactly as added: an evidence snippet is text.slice(start, end). Always in a single document; in lists only with include_text=true',
      },
      created_at: dateTime,
      updated_at: dateTime,
      retired_at: { ...dateTime, nullable: true },
    },
  },
  KnowledgeDocumentList: {
    type: 'object',
    required: ['items', 'page', 'page_size', 'total'],
    properties: {
      items: { type: 'array', items: schema('KnowledgeDocument') },
      page: { type: 'integer' },
      page_size: { type: 'integer' },
      total: { type: 'integer', description: 'Matches across all pages' },
    },
  },
} as const;

const DocumentId = { name: 'document_id', in: 'path', required: true, schema: uuidInput } as const;

export const documentPaths = {
  '/catalog/documents': {
    get: {
      tags: ['Catalog'],
      operationId: 'listKnowledgeDocuments',
      summary: 'List knowledge documents (any signed-in user)',
      description:
        'Active documents by title, then id. `include_retired=true` (admins only; anyone else gets 403) lists retired ones too. Items leave their text out unless `include_text=true`.',
      parameters: [
        { in: 'query', name: 'page', schema: { type: 'integer', minimum: 1, default: 1 } },
        { in: 'query', name: 'page_size', schema: { type: 'integer', minimum: 10, maximum: 100, default: 25 } },
        { in: 'query', name: 'include_retired', schema: { type: 'boolean', default: false } },
        { in: 'query', name: 'include_text', schema: { type: 'boolean', default: false } },
      ],
      responses: {
        '200': jsonResponse('Paginated document list', schema('KnowledgeDocumentList')),
        '400': errorResponse('Invalid query parameters'),
        '403': errorResponse('include_retired asked for by someone who is not an admin'),
        ...authenticatedErrors,
      },
    },
    post: {
      tags: ['Catalog'],
      operationId: 'addKnowledgeDocument',
      summary: 'Add a knowledge document, whose passages become evidence for recommendations (admin)',
      parameters: [parameter('IdempotencyKey')],
      requestBody: jsonBody('KnowledgeDocumentInput'),
      responses: {
        '201': jsonResponse('Document added (version "1"), with its text', schema('KnowledgeDocument')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON, missing or unknown fields'),
        '403': errorResponse('Caller is not an admin'),
        '409': errorResponse('Document already exists'),
        '413': errorResponse(`Body larger than ${DOCUMENT_BODY_LIMIT}`),
        '422': errorResponse(
          'INVALID_DOCUMENT: empty, oversized or non-text text, a bad title or source URI (details.field)',
        ),
        ...authenticatedErrors,
      },
    },
  },
  '/catalog/documents/{document_id}': {
    get: {
      tags: ['Catalog'],
      operationId: 'getKnowledgeDocument',
      summary: 'A knowledge document with its full text, active or retired (any signed-in user)',
      parameters: [DocumentId],
      responses: {
        '200': jsonResponse('The document, text included', schema('KnowledgeDocument')),
        '404': errorResponse('Document not found'),
        ...authenticatedErrors,
      },
    },
    put: {
      tags: ['Catalog'],
      operationId: 'reviseKnowledgeDocument',
      summary: 'Revise a knowledge document: its next version replaces its passages (admin)',
      parameters: [DocumentId],
      requestBody: jsonBody('KnowledgeDocumentRevisionInput'),
      responses: {
        '200': jsonResponse('Document revised, with its text', schema('KnowledgeDocument')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON or unknown fields'),
        '403': errorResponse('Caller is not an admin'),
        '404': errorResponse('Document not found'),
        '409': errorResponse('Document retired'),
        '413': errorResponse(`Body larger than ${DOCUMENT_BODY_LIMIT}`),
        '422': errorResponse('INVALID_DOCUMENT (details.field), or NOTHING_TO_REVISE'),
        ...authenticatedErrors,
      },
    },
    delete: {
      tags: ['Catalog'],
      operationId: 'retireKnowledgeDocument',
      summary: 'Retire a knowledge document: its passages are never retrieved again (admin)',
      parameters: [DocumentId],
      responses: {
        '202': response('CommandPending'),
        '204': { description: 'Document retired' },
        '403': errorResponse('Caller is not an admin'),
        '404': errorResponse('Document not found'),
        '409': errorResponse('Document already retired'),
        '422': errorResponse('Document cannot be retired'),
        ...authenticatedErrors,
      },
    },
  },
} as const;
