import type { FromSchema } from 'json-schema-to-ts';
import { MAX_OVERRIDE_REASON_LENGTH } from '../../../domain/assessment/essayScoring';
import {
  authenticatedErrors,
  dateTime,
  errorResponse,
  jsonBody,
  jsonResponse,
  nullableInteger,
  nullableNumber,
  nullableString,
  parameter,
  response,
  schema,
} from '../openapi/helpers';

/**
 * The contract of essay scoring as the API shows it: the per-question scoring progress in
 * `GET /assessments/{id}` (schema `ScoringProgress`), the essay scores with their evidence,
 * and an advisor's override. Merged into the served document by `openapi/document.ts`.
 */

/** The override's request body; its TypeScript type is derived from it (below). */
export const EssayOverrideRequest = {
  type: 'object',
  required: ['score', 'reason'],
  additionalProperties: false,
  properties: {
    score: { type: 'number', minimum: 0, description: 'The new score, from 0 to the question’s weight' },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_OVERRIDE_REASON_LENGTH,
      pattern: '\\S',
      description: 'Why the score is corrected (kept with the score, shown to the student and staff)',
    },
  },
} as const;
export type EssayOverrideBody = FromSchema<typeof EssayOverrideRequest>;

export const essaySchemas = {
  EssayOverrideRequest,
  QuestionScoring: {
    type: 'object',
    description:
      'Where one question stands: `rule_scored` (multiple choice, profile), `pending` (an answered essay not scored yet), `scored`, `failed` or `overridden`.',
    required: ['question_id', 'type', 'status', 'score', 'max_score', 'provider', 'degraded', 'needs_review'],
    properties: {
      question_id: { type: 'string' },
      type: { type: 'string', enum: ['multiple_choice', 'essay', 'profile'] },
      status: {
        type: 'string',
        enum: ['unanswered', 'rule_scored', 'pending', 'scored', 'failed', 'overridden'],
      },
      score: nullableNumber,
      max_score: nullableNumber,
      provider: { ...nullableString, description: 'Who scored an essay: "openai" or "offline"; null otherwise' },
      degraded: { type: 'boolean', description: 'Scored by the offline fallback rather than the LLM' },
      needs_review: { type: 'boolean' },
      job: {
        type: 'object',
        nullable: true,
        description: 'For a pending essay: its scoring job, once the scorer has taken it',
        required: ['status', 'attempts'],
        properties: {
          status: {
            type: 'string',
            enum: ['waiting', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'rejected', 'cancelled'],
          },
          attempts: { type: 'integer' },
          next_retry_at: { ...dateTime, nullable: true },
          last_error: nullableString,
        },
      },
    },
  },
  ScoringProgress: {
    type: 'object',
    required: ['questions', 'essays_pending'],
    properties: {
      questions: { type: 'array', items: schema('QuestionScoring') },
      essays_pending: { type: 'integer', description: 'Answered essays not scored yet' },
    },
  },
  EssayCriterionScore: {
    type: 'object',
    required: ['criterion_id', 'band_score', 'max_band_score', 'evidence', 'rationale'],
    properties: {
      criterion_id: { type: 'string' },
      band_score: { type: 'number' },
      max_band_score: { type: 'number' },
      evidence: { type: 'string', description: 'A verbatim span of the essay (empty when none supports the band)' },
      rationale: { type: 'string' },
    },
  },
  EssayScore: {
    type: 'object',
    required: [
      'question_id',
      'status',
      'score',
      'max_score',
      'criteria',
      'rationale',
      'provider',
      'model',
      'prompt_version',
      'degraded',
      'flags',
      'needs_review',
      'tokens_in',
      'tokens_out',
      'cost_cents',
      'latency_ms',
      'failure',
      'override',
      'updated_at',
    ],
    properties: {
      question_id: { type: 'string' },
      status: { type: 'string', enum: ['scored', 'failed', 'overridden'] },
      score: nullableNumber,
      max_score: nullableNumber,
      criteria: { type: 'array', items: schema('EssayCriterionScore') },
      rationale: { ...nullableString, description: 'The scorer’s overall rationale' },
      provider: nullableString,
      model: nullableString,
      prompt_version: nullableString,
      degraded: { type: 'boolean' },
      flags: { type: 'array', items: { type: 'string' } },
      needs_review: { type: 'boolean' },
      tokens_in: nullableInteger,
      tokens_out: nullableInteger,
      cost_cents: nullableNumber,
      latency_ms: nullableInteger,
      failure: {
        type: 'object',
        nullable: true,
        required: ['reason', 'attempts'],
        properties: { reason: { type: 'string' }, attempts: { type: 'integer' } },
      },
      override: {
        type: 'object',
        nullable: true,
        required: ['previous_score', 'reason', 'by', 'at'],
        properties: {
          previous_score: nullableNumber,
          reason: { type: 'string' },
          by: {
            type: 'object',
            required: ['id', 'role'],
            properties: { id: { type: 'string' }, role: { type: 'string' } },
          },
          at: dateTime,
        },
      },
      updated_at: dateTime,
    },
  },
  EssayScoreList: {
    type: 'object',
    required: ['assessment_id', 'essays'],
    properties: {
      assessment_id: { type: 'string' },
      essays: { type: 'array', items: schema('EssayScore') },
    },
  },
} as const;

export const essayPaths = {
  '/assessments/{assessment_id}/essays': {
    get: {
      tags: ['Assessments'],
      operationId: 'listEssayScores',
      summary: 'Essay scores with their evidence (owner, advisor, admin)',
      parameters: [parameter('AssessmentId')],
      responses: {
        '200': jsonResponse('The essays scored so far (failed and overridden ones too)', schema('EssayScoreList')),
        '403': errorResponse('Caller is neither the owner, an advisor nor an admin'),
        '404': errorResponse('Assessment not found'),
        ...authenticatedErrors,
      },
    },
  },
  '/assessments/{assessment_id}/essays/{question_id}/override': {
    post: {
      tags: ['Assessments'],
      operationId: 'overrideEssayScore',
      summary: 'Correct an essay’s score, with a reason (advisor, admin)',
      parameters: [parameter('AssessmentId'), parameter('QuestionId'), parameter('IdempotencyKey')],
      requestBody: jsonBody('EssayOverrideRequest'),
      responses: {
        '200': jsonResponse('The essay’s score as overridden', schema('EssayScore')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed body: score missing or negative, reason missing, empty or too long'),
        '403': errorResponse('Caller is neither an advisor nor an admin'),
        '404': errorResponse('Assessment or essay question not found'),
        '409': errorResponse('Assessment not submitted yet, or the essay not scored yet'),
        '422': errorResponse('Score above the question’s weight, or the question is not an essay'),
        ...authenticatedErrors,
      },
    },
  },
} as const;
