import {
  authenticatedErrors,
  dateTime,
  errorResponse,
  jsonResponse,
  nullableString,
  parameter,
  schema,
} from '../openapi/helpers';

/**
 * The contract of `GET /assessments/{id}/history`: the audit timeline, and with `as_of` the
 * timeline up to that instant plus the assessment's state then, recomputed from the event log.
 * Merged into the served document by `openapi/document.ts`; routes in `assessmentRoutes.ts`.
 */

const scoreFields = {
  question_id: { type: 'string' },
  score: { type: 'number' },
  max_score: { type: 'number' },
  revision: { type: 'integer' },
} as const;

export const historySchemas = {
  AssessmentHistory: {
    type: 'object',
    required: ['assessment_id', 'events'],
    properties: {
      assessment_id: { type: 'string' },
      as_of: { ...dateTime, description: 'The instant asked for (only with `as_of`)' },
      events: { type: 'array', items: schema('HistoryEntry') },
      state: schema('AssessmentStateAt'),
    },
  },
  HistoryEntry: {
    type: 'object',
    required: ['event_id', 'type', 'version', 'occurred_at', 'actor', 'summary'],
    properties: {
      event_id: { type: 'string' },
      type: { type: 'string' },
      version: { type: 'integer' },
      occurred_at: dateTime,
      actor: {
        type: 'object',
        required: ['id', 'role'],
        properties: { id: { type: 'string' }, role: { type: 'string' } },
      },
      summary: { type: 'string' },
    },
  },
  AssessmentStateAt: {
    type: 'object',
    description:
      'The assessment as it was at `as_of`, folded from its events by the domain (not read from the read model). Rubrics are shown without their answer keys, as in the start response. `not_started` (and nothing else) when `as_of` precedes the start.',
    required: ['status', 'version'],
    properties: {
      status: { type: 'string', enum: ['not_started', 'in_progress', 'awaiting_async', 'completed', 'failed'] },
      version: { type: 'integer', description: 'Version of the last event folded (0: none)' },
      user_id: { type: 'string' },
      role_id: { type: 'string' },
      role_name: { type: 'string' },
      started_at: dateTime,
      expires_at: dateTime,
      submitted_at: { ...dateTime, nullable: true },
      completed_at: dateTime,
      failed_at: dateTime,
      reason: { type: 'string' },
      pending: { type: 'array', items: { type: 'string', enum: ['essay_scoring', 'recommendations'] } },
      degraded: { type: 'boolean' },
      questions: { type: 'array', items: schema('QuestionSnapshot') },
      responses: {
        type: 'array',
        items: {
          type: 'object',
          required: ['question_id', 'answer', 'revision', 'question_version', 'submitted_at'],
          properties: {
            question_id: { type: 'string' },
            answer: { description: 'The answer as recorded (text, index, object or {selected})' },
            revision: { type: 'integer' },
            question_version: { type: 'string' },
            submitted_at: dateTime,
          },
        },
      },
      rule_scores: {
        type: 'array',
        items: { type: 'object', required: Object.keys(scoreFields), properties: scoreFields },
      },
      essay_scores: {
        type: 'array',
        items: {
          type: 'object',
          required: [...Object.keys(scoreFields), 'provider', 'overridden'],
          properties: { ...scoreFields, provider: nullableString, overridden: { type: 'boolean' } },
        },
      },
      essay_failures: {
        type: 'array',
        items: {
          type: 'object',
          required: ['question_id', 'revision', 'reason'],
          properties: { question_id: { type: 'string' }, revision: { type: 'integer' }, reason: { type: 'string' } },
        },
      },
    },
  },
} as const;

export const historyPaths = {
  '/assessments/{assessment_id}/history': {
    get: {
      tags: ['Assessments'],
      operationId: 'getAssessmentHistory',
      summary: 'Timeline of who did what when on an assessment, optionally as of an instant (owner, advisor, admin)',
      description:
        'Without `as_of`: every event of the assessment from the audit trail. With `as_of`: the events that occurred at or before that instant, and `state`, the assessment as it was then, recomputed from the event log with the domain’s own rules.',
      parameters: [
        parameter('AssessmentId'),
        {
          name: 'as_of',
          in: 'query',
          required: false,
          description: 'An RFC 3339 instant, not in the future (e.g. 2026-03-01T12:00:00Z)',
          schema: dateTime,
        },
      ],
      responses: {
        '200': jsonResponse(
          'Events of the assessment, oldest first (and its state at `as_of`)',
          schema('AssessmentHistory'),
        ),
        '400': errorResponse(
          '`as_of` is not an RFC 3339 instant (INVALID_AS_OF) or is in the future (AS_OF_IN_FUTURE)',
        ),
        '403': errorResponse('Caller is neither the owner, an advisor nor an admin'),
        '404': errorResponse('Assessment not found'),
        ...authenticatedErrors,
      },
    },
  },
} as const;
