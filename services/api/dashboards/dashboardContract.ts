import {
  authenticatedErrors,
  count,
  dateTime,
  errorResponse,
  jsonResponse,
  nullableDateTime,
  nullableNumber,
  schema,
  uuid,
} from '../openapi/helpers';
import { uuidInput } from '../openapi/requestConstraints';

/**
 * The contract of the dashboards (advisors and admins): the assessments list with filters and
 * cursor pagination, the operations metrics of a time window, and recommendation feedback per
 * credential. Merged into the served document by `openapi/document.ts`.
 */

const query = (name: string, schemaObject: Record<string, unknown>, description: string) => ({
  in: 'query',
  name,
  required: false,
  schema: schemaObject,
  description,
});

const fromParam = query('from', dateTime, 'Start of the window, inclusive (RFC 3339)');
const toParam = query('to', dateTime, 'End of the window, exclusive (RFC 3339)');
const limitParam = (fallback: number) =>
  query('limit', { type: 'integer', minimum: 1, maximum: 100, default: fallback }, 'Rows at most');

export const dashboardSchemas = {
  DashboardAssessment: {
    type: 'object',
    required: [
      'assessment_id',
      'user_id',
      'role_id',
      'status',
      'degraded',
      'answered',
      'total',
      'started_at',
      'submitted_at',
      'completed_at',
      'essays',
    ],
    properties: {
      assessment_id: uuid,
      user_id: uuid,
      role_id: uuid,
      status: { type: 'string', enum: ['in_progress', 'awaiting_async', 'completed', 'failed'] },
      degraded: { type: 'boolean' },
      answered: count,
      total: count,
      started_at: dateTime,
      submitted_at: nullableDateTime,
      completed_at: nullableDateTime,
      essays: {
        type: 'object',
        description: 'Its essay scores so far: how many, scored (or overridden), failed, flagged, their cost',
        required: ['count', 'scored', 'failed', 'needs_review', 'cost_cents'],
        properties: {
          count,
          scored: count,
          failed: count,
          needs_review: count,
          cost_cents: { type: 'number', minimum: 0 },
        },
      },
    },
  },
  DashboardAssessmentPage: {
    type: 'object',
    required: ['items', 'limit', 'next_cursor'],
    properties: {
      items: { type: 'array', items: schema('DashboardAssessment') },
      limit: { type: 'integer' },
      next_cursor: {
        type: 'string',
        nullable: true,
        description: 'Pass as `cursor` (with the same filters) for the next page; null on the last page',
      },
    },
  },
  LatencyDistribution: {
    type: 'object',
    required: ['count', 'p50', 'p95'],
    properties: { count, p50: nullableNumber, p95: nullableNumber },
  },
  DashboardMetrics: {
    type: 'object',
    required: [
      'from',
      'to',
      'assessments',
      'per_hour',
      'submit_to_result_ms',
      'stages',
      'token_cost_cents',
      'consumer_lag',
    ],
    properties: {
      from: dateTime,
      to: dateTime,
      assessments: {
        type: 'object',
        description:
          'Assessments started in the window, by current status. `degraded_rate` = degraded / started; `failure_rate` = failed / (completed + failed); null when the denominator is 0.',
        required: [
          'started',
          'in_progress',
          'awaiting_async',
          'completed',
          'failed',
          'degraded',
          'degraded_rate',
          'failure_rate',
        ],
        properties: {
          started: count,
          in_progress: count,
          awaiting_async: count,
          completed: count,
          failed: count,
          degraded: count,
          degraded_rate: nullableNumber,
          failure_rate: nullableNumber,
        },
      },
      per_hour: {
        type: 'array',
        description: 'One bucket per hour of the window (UTC, empty hours included), by start time',
        items: {
          type: 'object',
          required: ['hour', 'started', 'completed', 'failed', 'degraded'],
          properties: { hour: dateTime, started: count, completed: count, failed: count, degraded: count },
        },
      },
      submit_to_result_ms: schema('LatencyDistribution'),
      stages: {
        type: 'array',
        description:
          'Latencies recorded in `metric_snapshots` in the window, per metric (`total_latency_ms`, `gpt_latency_ms`, `rag_latency_ms`, …; empty when none are)',
        items: {
          type: 'object',
          required: ['stage', 'count', 'avg', 'p50', 'p95'],
          properties: {
            stage: { type: 'string' },
            count,
            avg: { type: 'number' },
            p50: { type: 'number' },
            p95: { type: 'number' },
          },
        },
      },
      token_cost_cents: {
        type: 'object',
        description:
          'Token cost per assessment started in the window: the processing’s recorded total (essays, embeddings, rationales) once its recommendations exist, else its essay scores’ cost so far (those with either)',
        required: ['assessments', 'total', 'avg', 'p95'],
        properties: { assessments: count, total: { type: 'number' }, avg: nullableNumber, p95: nullableNumber },
      },
      consumer_lag: {
        type: 'object',
        description:
          'How long ago each projection last stored its offsets (`source: offsets_age`). An idle projection ages with no lag: read it with the event rate. Kafka end offsets are not queried here.',
        required: ['source', 'projections'],
        properties: {
          source: { type: 'string', enum: ['offsets_age'] },
          projections: {
            type: 'array',
            items: {
              type: 'object',
              required: ['projection', 'partitions', 'last_applied_at', 'age_seconds'],
              properties: {
                projection: { type: 'string' },
                partitions: count,
                last_applied_at: dateTime,
                age_seconds: { type: 'number', minimum: 0 },
              },
            },
          },
        },
      },
    },
  },
  CredentialFeedback: {
    type: 'object',
    required: ['credential_id', 'title', 'feedback', 'accepted', 'rejected', 'pending', 'mean_relevance'],
    properties: {
      credential_id: uuid,
      title: { type: 'string' },
      feedback: {
        ...count,
        description: 'Feedback given on the credential where it was recommended (each person’s latest revision, once)',
      },
      accepted: count,
      rejected: count,
      pending: { ...count, description: 'Pending, or without an acceptance status' },
      mean_relevance: { ...nullableNumber, description: 'Mean relevance score (1–5)' },
    },
  },
  FeedbackSummary: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: schema('CredentialFeedback') } },
  },
} as const;

const staffOnly = {
  '400': errorResponse('A query parameter is malformed (error_code INVALID_QUERY or INVALID_CURSOR)'),
  '403': errorResponse('Caller is neither an advisor nor an admin'),
  ...authenticatedErrors,
};

export const dashboardPaths = {
  '/dashboards/assessments': {
    get: {
      tags: ['Dashboards'],
      operationId: 'listDashboardAssessments',
      summary: 'Assessments, newest first, with filters and cursor pagination (advisor, admin)',
      parameters: [
        query('status', { type: 'string', enum: ['in_progress', 'awaiting_async', 'completed', 'failed'] }, 'Status'),
        query('role_id', uuidInput, 'Role assessed'),
        query('user_id', uuidInput, 'Student'),
        query('degraded', { type: 'boolean' }, 'Scored (partly) by the offline fallback, or an essay failed'),
        query(
          'date_field',
          { type: 'string', enum: ['started_at', 'submitted_at'], default: 'started_at' },
          'The instant `from`/`to` filter on and the list is sorted by (submitted_at: submitted ones only)',
        ),
        fromParam,
        toParam,
        limitParam(25),
        query('cursor', { type: 'string' }, 'The previous page’s `next_cursor`'),
      ],
      responses: {
        '200': jsonResponse('A page of assessments', schema('DashboardAssessmentPage')),
        ...staffOnly,
      },
    },
  },
  '/dashboards/metrics': {
    get: {
      tags: ['Dashboards'],
      operationId: 'getDashboardMetrics',
      summary: 'Operations metrics of a time window, 31 days at most (advisor, admin)',
      parameters: [
        { ...fromParam, description: 'Start of the window, inclusive (default: 24 hours before `to`)' },
        { ...toParam, description: 'End of the window, exclusive (default: now)' },
      ],
      responses: {
        '200': jsonResponse('The window’s metrics', schema('DashboardMetrics')),
        ...staffOnly,
      },
    },
  },
  '/dashboards/feedback': {
    get: {
      tags: ['Dashboards'],
      operationId: 'getDashboardFeedback',
      summary: 'Recommendation feedback per credential, most discussed first (advisor, admin)',
      parameters: [
        { ...fromParam, description: 'Feedback submitted from (inclusive)' },
        { ...toParam, description: 'Feedback submitted before (exclusive)' },
        query('credential_id', uuidInput, 'One credential only'),
        limitParam(50),
      ],
      responses: {
        '200': jsonResponse('Feedback per credential', schema('FeedbackSummary')),
        ...staffOnly,
      },
    },
  },
} as const;
