import type { FromSchema } from 'json-schema-to-ts';
import { MAX_EXAMPLE_TEXT, MAX_EXAMPLES_TEXT_TOTAL, MAX_SCORED_EXAMPLES } from '../../../domain/catalog/decide';
import { NOT_BLANK } from '../openapi/requestConstraints';
import {
  JSON_MEDIA,
  authenticatedErrors,
  errorResponse,
  jsonResponse,
  parameter,
  response,
  schema,
} from '../openapi/helpers';

/**
 * The contract of an essay question's human-scored examples (the offline scorer's calibration
 * data): an admin imports them as a TSV file or as JSON, and reads a summary back. Merged into
 * the served document by `openapi/document.ts`.
 */

export const TSV_MEDIA = 'text/tab-separated-values';
/** The largest import body, TSV or JSON (beyond: 413). */
export const SCORED_EXAMPLES_BODY_LIMIT = '2mb';

/** The JSON form of an import; its TypeScript type is derived from it (below). */
export const ScoredExamplesImportRequest = {
  type: 'object',
  required: ['examples'],
  additionalProperties: false,
  properties: {
    examples: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_SCORED_EXAMPLES,
      description: `At most ${MAX_EXAMPLES_TEXT_TOTAL.toLocaleString('en-US')} characters of text in all (a bound across items that JSON Schema cannot state; 422 INVALID_SCORED_EXAMPLES)`,
      items: {
        type: 'object',
        required: ['text', 'score'],
        additionalProperties: false,
        properties: {
          text: { type: 'string', minLength: 1, maxLength: MAX_EXAMPLE_TEXT, pattern: NOT_BLANK },
          score: { type: 'number', minimum: 0, description: 'From 0 to the question’s weight' },
        },
      },
    },
  },
} as const;
export type ScoredExamplesImportBody = FromSchema<typeof ScoredExamplesImportRequest>;

export const scoredExamplesSchemas = {
  ScoredExamplesImportRequest,
  ScoredExamplesImportResult: {
    type: 'object',
    required: ['question_id', 'import_id', 'imported'],
    properties: {
      question_id: { type: 'string' },
      import_id: { type: 'string', description: 'Derived from the Idempotency-Key when one is given' },
      imported: { type: 'integer' },
    },
  },
  ScoredExamplesSummary: {
    type: 'object',
    required: ['question_id', 'max_score', 'total', 'by_source', 'score_distribution'],
    properties: {
      question_id: { type: 'string' },
      max_score: { type: 'number', description: 'The question’s weight: scores run from 0 to it' },
      total: { type: 'integer' },
      by_source: {
        type: 'object',
        required: ['import', 'override'],
        description: 'Examples imported by admins, and those from advisors’ overrides',
        properties: { import: { type: 'integer' }, override: { type: 'integer' } },
      },
      score_distribution: {
        type: 'array',
        description: 'How many examples carry each score, lowest score first',
        items: {
          type: 'object',
          required: ['score', 'count'],
          properties: { score: { type: 'number' }, count: { type: 'integer' } },
        },
      },
    },
  },
} as const;

export const scoredExamplesPaths = {
  '/catalog/questions/{question_id}/scored-examples': {
    get: {
      tags: ['Catalog'],
      operationId: 'getScoredExamplesSummary',
      summary: 'Count of an essay question’s scored examples, per source and per score (admin)',
      parameters: [parameter('QuestionId')],
      responses: {
        '200': jsonResponse('Summary of the examples', schema('ScoredExamplesSummary')),
        '403': errorResponse('Caller is not an admin'),
        '404': errorResponse('Question not found'),
        ...authenticatedErrors,
      },
    },
    post: {
      tags: ['Catalog'],
      operationId: 'importScoredExamples',
      summary: 'Import human-scored examples for an essay question, all or nothing (admin)',
      description: `A TSV file (\`${TSV_MEDIA}\`: header \`text<TAB>score\`, one example per line, no quoting) or JSON \`{examples: [{text, score}]}\`, at most ${SCORED_EXAMPLES_BODY_LIMIT}. Scores run from 0 to the question's weight. One bad row refuses the whole import; the error names its line (\`details.line\`, the header being line 1) or, for JSON, its index (\`details.index\`).`,
      parameters: [parameter('QuestionId'), parameter('IdempotencyKey')],
      requestBody: {
        required: true,
        content: {
          [TSV_MEDIA]: { schema: { type: 'string' } },
          [JSON_MEDIA]: { schema: schema('ScoredExamplesImportRequest') },
        },
      },
      responses: {
        '201': jsonResponse('Examples imported', schema('ScoredExamplesImportResult')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON body or unknown fields'),
        '403': errorResponse('Caller is not an admin'),
        '404': errorResponse('Question not found'),
        '409': errorResponse('The question’s state refuses the import'),
        '413': errorResponse(`Body larger than ${SCORED_EXAMPLES_BODY_LIMIT}`),
        '415': errorResponse(`Neither ${TSV_MEDIA} nor ${JSON_MEDIA}`),
        '422': errorResponse(
          'A bad row (details.line or details.index names it), a score outside 0..weight, or not an essay question',
        ),
        ...authenticatedErrors,
      },
    },
  },
} as const;
