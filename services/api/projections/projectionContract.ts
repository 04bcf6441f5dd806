import {
  authenticatedErrors,
  count,
  dateTime,
  errorResponse,
  jsonResponse,
  nullableDateTime,
  nullableString,
  schema,
  uuid,
} from '../openapi/helpers';

/**
 * The contract of the projections' operations (admin only): their lag, and their rebuilds from
 * the event log. Merged into the served document by `openapi/document.ts`.
 */

const tags = ['Projections'];
const adminOnly = errorResponse('Caller is not an admin');
const rebuildNotFound = errorResponse('REBUILD_NOT_FOUND: no such rebuild in this system');
const refusals =
  'REBUILD_RUNNING (one is running; details.rebuild_id), REBUILD_INTERRUPTED (an interrupted one must be resumed or cancelled first; details.rebuild_id), PROJECTION_NOT_REBUILDABLE (it reads a topic that does not keep every record), REBUILD_REFUSED (e.g. another system shares the database, or a view reads its tables)';

export const projectionSchemas = {
  ProjectionPartitionLag: {
    type: 'object',
    required: [
      'projection',
      'topic',
      'partition',
      'applied_offset',
      'end_offset',
      'lag_events',
      'lag_seconds',
      'lag_exact',
    ],
    additionalProperties: false,
    properties: {
      projection: { type: 'string', description: 'A projection, or a processor intake (`processor.<name>`)' },
      topic: { type: 'string' },
      partition: count,
      applied_offset: { ...count, description: 'The next offset the projection will apply' },
      end_offset: { ...count, description: "The partition's high watermark" },
      lag_events: { ...count, description: 'Committed records not applied yet' },
      lag_seconds: { type: 'number', minimum: 0, description: 'Age of the oldest unapplied record' },
      lag_exact: {
        type: 'boolean',
        description: 'False when there were too many to count: lag_events is then the offset distance',
      },
    },
  },
  ProjectionRebuild: {
    type: 'object',
    description:
      'A rebuild from offset zero into a shadow schema, swapped in atomically at the end. `interrupted`: its process stopped before the swap (the live tables are unchanged); resume it or cancel it.',
    required: [
      'id',
      'projections',
      'status',
      'phase',
      'events_applied',
      'offsets_done',
      'offsets_total',
      'requested_by',
      'error',
      'warnings',
      'started_at',
      'heartbeat_at',
      'finished_at',
      'status_url',
    ],
    additionalProperties: false,
    properties: {
      id: uuid,
      projections: { type: 'array', items: { type: 'string' }, minItems: 1 },
      status: { type: 'string', enum: ['running', 'interrupted', 'swapped', 'failed', 'cancelled'] },
      phase: { type: 'string', enum: ['preparing', 'replaying', 'indexing', 'swapping', 'done'] },
      events_applied: { ...count, description: 'Applications of an event to a projection so far (this run)' },
      offsets_done: { ...count, description: 'Offsets of the topics the shadow has applied' },
      offsets_total: { ...count, description: 'Offsets to apply (the heads when last measured)' },
      requested_by: nullableString,
      error: { ...nullableString, description: 'Why it stopped or failed' },
      warnings: { type: 'array', items: { type: 'string' } },
      started_at: dateTime,
      heartbeat_at: dateTime,
      finished_at: nullableDateTime,
      status_url: { type: 'string', description: 'Where to follow it' },
    },
  },
  ProjectionsStatus: {
    type: 'object',
    required: ['projections', 'rebuilds'],
    additionalProperties: false,
    properties: {
      projections: { type: 'array', items: schema('ProjectionPartitionLag') },
      rebuilds: {
        type: 'array',
        items: schema('ProjectionRebuild'),
        description: 'The latest rebuilds of this system, newest first',
      },
    },
  },
} as const;

const ProjectionName = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'A projection, as listed by GET /admin/projections (e.g. `assessments`)',
} as const;
const RebuildId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } } as const;

export const projectionPaths = {
  '/admin/projections': {
    get: {
      tags,
      operationId: 'getProjectionsStatus',
      summary:
        'Per projection and partition: applied offset, end offset, lag in events and seconds; and the latest rebuilds (admin)',
      responses: {
        '200': jsonResponse('Status', schema('ProjectionsStatus')),
        '403': adminOnly,
        ...authenticatedErrors,
      },
    },
  },
  '/admin/projections/{name}/rebuild': {
    post: {
      tags,
      operationId: 'rebuildProjection',
      summary: 'Rebuild a projection from offset zero beside the live one, then swap it in (admin)',
      description:
        'Answers 202 at once; the rebuild runs in the API process. The live tables keep serving until the swap, one transaction: readers see the old rows or the new ones, never a half-built table. Projections only write PostgreSQL, so a rebuild sends no webhook and calls no LLM.',
      parameters: [ProjectionName],
      responses: {
        '202': jsonResponse('Started; follow it at status_url', schema('ProjectionRebuild')),
        '403': adminOnly,
        '404': errorResponse('PROJECTION_NOT_FOUND: no such projection'),
        '409': errorResponse(refusals),
        ...authenticatedErrors,
      },
    },
  },
  '/admin/projections/rebuilds/{id}': {
    get: {
      tags,
      operationId: 'getProjectionRebuild',
      summary: 'A rebuild: status, phase, progress (admin)',
      parameters: [RebuildId],
      responses: {
        '200': jsonResponse('The rebuild', schema('ProjectionRebuild')),
        '403': adminOnly,
        '404': rebuildNotFound,
        ...authenticatedErrors,
      },
    },
    delete: {
      tags,
      operationId: 'cancelProjectionRebuild',
      summary: 'Cancel a rebuild: stop it if it runs in this process, drop its shadow; the live tables stay (admin)',
      parameters: [RebuildId],
      responses: {
        '200': jsonResponse('Cancelled', schema('ProjectionRebuild')),
        '403': adminOnly,
        '404': rebuildNotFound,
        '409': errorResponse(
          'REBUILD_RUNNING (it runs in another process), REBUILD_FINISHED (already swapped, failed or cancelled)',
        ),
        ...authenticatedErrors,
      },
    },
  },
  '/admin/projections/rebuilds/{id}/resume': {
    post: {
      tags,
      operationId: 'resumeProjectionRebuild',
      summary: 'Resume an interrupted rebuild from where its shadow stands (admin)',
      parameters: [RebuildId],
      responses: {
        '202': jsonResponse('Resumed; follow it at status_url', schema('ProjectionRebuild')),
        '403': adminOnly,
        '404': rebuildNotFound,
        '409': errorResponse('REBUILD_RUNNING (it runs), REBUILD_FINISHED (already swapped, failed or cancelled)'),
        ...authenticatedErrors,
      },
    },
  },
} as const;
