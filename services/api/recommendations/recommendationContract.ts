import type { FromSchema } from 'json-schema-to-ts';
import { MAX_FEEDBACK_COMMENTS_LENGTH } from '../../../domain/assessment/recommendations';
import {
  authenticatedErrors,
  count,
  dateTime,
  errorResponse,
  JSON_MEDIA,
  jsonBody,
  jsonResponse,
  nullableNumber,
  nullableString,
  parameter,
  response,
  schema,
} from '../openapi/helpers';

/**
 * The contract of an assessment's result and of feedback on its recommendations: the seed's
 * `AssessmentResult`, `RecommendationItem`, `RagTrace`, `ProcessingMetrics` and
 * `RecommendationFeedbackRequest` (every seed field kept, with what the service adds), the
 * progress answered while the result is being prepared, and the recorded feedback. Merged into
 * the served document by `openapi/document.ts`; routes in `recommendationRoutes.ts`.
 */

const texts = { type: 'array', items: { type: 'string' } } as const;

/** The feedback request body (seed fields, plus which item); its TypeScript type is derived from it. */
export const RecommendationFeedbackRequest = {
  type: 'object',
  required: ['relevance_score'],
  additionalProperties: false,
  properties: {
    relevance_score: { type: 'integer', minimum: 1, maximum: 5, description: '1 (irrelevant) to 5 (exactly right)' },
    acceptance_status: {
      type: 'string',
      enum: ['accepted', 'rejected', 'pending'],
      description: 'Whether the credential is taken up (default `pending`)',
    },
    comments: { type: 'string', maxLength: MAX_FEEDBACK_COMMENTS_LENGTH },
    submitted_by_role: {
      type: 'string',
      enum: ['student', 'advisor'],
      description:
        'Who gives it; optional, and when given it must be the caller’s own role (the token says who is calling)',
    },
    credential_id: {
      type: 'string',
      format: 'uuid',
      description:
        'The recommended credential the feedback is about. Required when the path names the recommendation; optional (and then it must match) when the path names one of its items (`item_id`)',
    },
  },
} as const;
export type RecommendationFeedbackBody = FromSchema<typeof RecommendationFeedbackRequest>;

export const recommendationSchemas = {
  AssessmentResult: {
    type: 'object',
    required: [
      'assessment_id',
      'recommendation_id',
      'summary',
      'summary_details',
      'recommendation_items',
      'traces',
      'metrics',
      'degraded',
      'completed_at',
      'scores',
    ],
    properties: {
      assessment_id: { type: 'string' },
      recommendation_id: { type: 'string', description: 'Where feedback goes: POST /recommendations/{id}/feedback' },
      summary: {
        type: 'string',
        description: 'The assessment’s summary, in prose (may be empty when the lists say it all)',
      },
      summary_details: {
        type: 'object',
        required: ['strengths', 'gaps', 'next_steps'],
        properties: { strengths: texts, gaps: texts, next_steps: texts },
      },
      recommendation_items: {
        type: 'array',
        items: schema('RecommendationItem'),
        description: 'Ranked, the top pick first',
      },
      traces: {
        type: 'array',
        items: schema('RagTrace'),
        description: 'The evidence retrieved; every `source_trace_ids` entry of an item is one of these',
      },
      metrics: schema('ProcessingMetrics'),
      degraded: {
        type: 'boolean',
        description:
          'A fallback was used somewhere (an essay scored offline or not at all, degraded retrieval, composed rationales)',
      },
      completed_at: dateTime,
      generated_by: {
        type: 'object',
        description: 'Who wrote the rationales and summary: `openai`, or `composed` (from the evidence and scores)',
        required: ['provider', 'model', 'prompt_version', 'degraded', 'generated_at'],
        properties: {
          provider: { type: 'string' },
          model: { type: 'string' },
          prompt_version: { type: 'string' },
          degraded: { type: 'boolean', description: 'The recommendation stage itself used a fallback' },
          generated_at: dateTime,
        },
      },
      evidence: {
        type: 'object',
        required: ['query_summary', 'degraded', 'retrieved_at'],
        properties: {
          query_summary: { ...nullableString, description: 'What was searched for, in words' },
          degraded: { type: 'boolean', description: 'Retrieval used a fallback (e.g. the lexical embedding)' },
          retrieved_at: { ...dateTime, nullable: true },
        },
      },
      scores: schema('AssessmentScoreSummary'),
    },
  },
  RecommendationItem: {
    type: 'object',
    required: [
      'credential_id',
      'title',
      'confidence',
      'rationale',
      'source_trace_ids',
      'item_id',
      'position',
      'scores',
    ],
    properties: {
      credential_id: { type: 'string' },
      title: { type: 'string' },
      confidence: { type: 'number', minimum: 0, maximum: 1, description: 'Calibrated, 0–1' },
      rationale: { type: 'string' },
      source_trace_ids: { type: 'array', items: { type: 'string' } },
      item_id: {
        type: 'string',
        description: 'This item; a feedback path may name it instead of the recommendation',
      },
      position: { type: 'integer', minimum: 1, description: '1 for the top pick' },
      scores: {
        type: 'object',
        description: 'The ranking’s components, each 0–1; null when that signal was not available',
        required: ['content', 'skill_gap', 'collaborative'],
        properties: { content: nullableNumber, skill_gap: nullableNumber, collaborative: nullableNumber },
      },
    },
  },
  RagTrace: {
    type: 'object',
    required: ['trace_id', 'source_uri', 'snippet', 'similarity'],
    properties: {
      trace_id: { type: 'string' },
      source_uri: { type: 'string', format: 'uri' },
      snippet: { type: 'string', description: 'Quoted verbatim from the source: its text from `start` to `end`' },
      similarity: { type: 'number' },
      embedding_provider: {
        type: 'string',
        enum: ['sentence-transformers', 'openai'],
        description:
          'The seed’s name of the embedding that matched it (MiniLM → sentence-transformers); absent for a fallback such as the lexical embedding (see `embedding_model`)',
      },
      embedding_model: { type: 'string', description: 'e.g. all-MiniLM-L6-v2, or lexical-hash-384 for the fallback' },
      source_type: { type: 'string', description: '`credential` or `document` (a knowledge document)' },
      source_id: { type: 'string' },
      start: { type: 'integer', minimum: 0, description: 'Offset of the snippet in its source (UTF-16 code units)' },
      end: { type: 'integer', minimum: 0 },
    },
  },
  ProcessingMetrics: {
    type: 'object',
    required: ['total_latency_ms', 'token_cost_cents'],
    properties: {
      total_latency_ms: { type: 'integer' },
      token_cost_cents: { type: 'number', description: 'The whole processing: essays, embeddings, rationales' },
      gpt_latency_ms: { type: 'integer', description: 'Absent when no LLM call was made' },
      rag_latency_ms: { type: 'integer' },
    },
  },
  AssessmentScoreSummary: {
    type: 'object',
    description:
      'The scores behind the recommendations: rule-scored questions (multiple choice, profile) and essays, each out of the weights of all its questions, and where every question stands',
    required: ['rule', 'essay', 'questions'],
    properties: {
      rule: {
        type: 'object',
        required: ['score', 'max_score', 'questions', 'scored'],
        properties: { score: { type: 'number' }, max_score: { type: 'number' }, questions: count, scored: count },
      },
      essay: {
        type: 'object',
        required: ['score', 'max_score', 'questions', 'answered', 'scored', 'overridden', 'failed'],
        properties: {
          score: { type: 'number' },
          max_score: { type: 'number' },
          questions: count,
          answered: count,
          scored: { ...count, description: 'Scored by a scorer (overridden ones included)' },
          overridden: count,
          failed: count,
        },
      },
      questions: { type: 'array', items: schema('QuestionScoring') },
    },
  },
  AssessmentResultPending: {
    type: 'object',
    description: 'The result is being prepared: where it stands. Poll again after `Retry-After` seconds.',
    required: ['assessment_id', 'status', 'progress', 'retry_after_seconds', 'message'],
    properties: {
      assessment_id: { type: 'string' },
      status: {
        type: 'string',
        enum: ['awaiting_async', 'completed'],
        description: '`completed` only for the moment the result is recorded but not readable yet',
      },
      progress: {
        type: 'object',
        required: ['essays_total', 'essays_scored', 'essays_failed', 'evidence_ready', 'recommendations_ready'],
        properties: {
          essays_total: { ...count, description: 'Answered essays, to be scored' },
          essays_scored: count,
          essays_failed: count,
          evidence_ready: { type: 'boolean' },
          recommendations_ready: { type: 'boolean' },
        },
      },
      retry_after_seconds: count,
      message: { type: 'string' },
    },
  },
  RecommendationFeedbackRequest,
  RecommendationFeedback: {
    type: 'object',
    description: 'The caller’s feedback on one recommended credential, as recorded (their latest revision)',
    required: [
      'feedback_id',
      'recommendation_id',
      'assessment_id',
      'credential_id',
      'relevance_score',
      'acceptance_status',
      'comments',
      'submitted_by',
      'submitted_by_role',
      'revision',
      'new_revision',
      'submitted_at',
      'first_submitted_at',
    ],
    properties: {
      feedback_id: { type: 'string' },
      recommendation_id: { type: 'string' },
      assessment_id: { type: 'string' },
      credential_id: { type: 'string' },
      relevance_score: { type: 'integer', minimum: 1, maximum: 5 },
      acceptance_status: { type: 'string', enum: ['accepted', 'rejected', 'pending'] },
      comments: nullableString,
      submitted_by: {
        type: 'object',
        required: ['id', 'role'],
        properties: { id: { type: 'string' }, role: { type: 'string' } },
      },
      submitted_by_role: { type: 'string', enum: ['student', 'advisor', 'admin'] },
      revision: { type: 'integer', minimum: 1, description: '1 for the first feedback on the item, then 2, 3, …' },
      new_revision: {
        type: 'boolean',
        description: 'False when this request repeated the latest feedback exactly: nothing new was recorded',
      },
      submitted_at: { ...dateTime, description: 'When this revision was given' },
      first_submitted_at: dateTime,
    },
  },
} as const;

export const recommendationPaths = {
  '/assessments/{assessment_id}/result': {
    get: {
      tags: ['Assessments', 'Recommendations'],
      operationId: 'getAssessmentResult',
      summary: 'Retrieve final recommendation result (owner, advisor, admin)',
      description:
        'While the essays are scored and the recommendations prepared: 202 with the progress and a `Retry-After`. Once completed: 200 with the result. An assessment not submitted yet is 409 `ASSESSMENT_NOT_SUBMITTED`; one that failed is 409 `ASSESSMENT_FAILED`, with the reason in the message and `details.reason`.',
      parameters: [parameter('AssessmentId')],
      responses: {
        '200': jsonResponse('Recommendation ready', schema('AssessmentResult')),
        '202': {
          description: 'Still processing',
          headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
          content: { [JSON_MEDIA]: { schema: schema('AssessmentResultPending') } },
        },
        '403': errorResponse('Caller may not see this assessment (NOT_ASSESSMENT_OWNER)'),
        '404': errorResponse('Not found'),
        '409': errorResponse(
          'Not submitted yet (ASSESSMENT_NOT_SUBMITTED), or failed (ASSESSMENT_FAILED; details.reason says why)',
        ),
        ...authenticatedErrors,
      },
    },
  },
  '/recommendations/{recommendation_id}/feedback': {
    post: {
      tags: ['Recommendations'],
      operationId: 'submitRecommendationFeedback',
      summary: 'Submit feedback for a recommendation (the student who took it, an advisor, an admin)',
      description:
        'One feedback per person per recommended credential, revisable: each submission is the caller’s next revision of it (the same feedback again records nothing new). The path names the recommendation (`recommendation_id` of the result), with `credential_id` in the body, or one of its items (`item_id`).',
      parameters: [parameter('RecommendationId'), parameter('IdempotencyKey')],
      requestBody: jsonBody('RecommendationFeedbackRequest'),
      responses: {
        '201': jsonResponse('Feedback recorded', schema('RecommendationFeedback')),
        '202': response('CommandPending'),
        '400': errorResponse('Invalid payload: the body is not JSON'),
        '403': errorResponse('A student giving feedback on someone else’s assessment (NOT_ASSESSMENT_OWNER)'),
        '404': errorResponse(
          'Recommendation not found (RECOMMENDATION_NOT_FOUND), or the credential is not one of its items (RECOMMENDATION_ITEM_NOT_FOUND)',
        ),
        '409': errorResponse('The assessment is not completed (RECOMMENDATIONS_NOT_READY)'),
        '422': errorResponse(
          'Invalid feedback (INVALID_FEEDBACK: the body against the schema, with details.problems), credential_id missing or contradicting the item (CREDENTIAL_ID_REQUIRED, CREDENTIAL_MISMATCH), or submitted_by_role not the caller’s role (SUBMITTER_ROLE_MISMATCH)',
        ),
        ...authenticatedErrors,
      },
    },
  },
} as const;
