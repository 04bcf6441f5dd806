import { DELIVERY_STATUSES } from '../../webhooks/delivery/deliveries';
import { RESPONSE_BODY_KEPT_BYTES } from '../../webhooks/delivery/httpSender';
import {
  authenticatedErrors,
  count,
  dateTime,
  errorResponse,
  jsonResponse,
  nullableDateTime,
  nullableInteger,
  nullableString,
  schema,
  uuid,
} from '../openapi/helpers';
import { uuidInput } from '../openapi/requestConstraints';

/**
 * The contract of webhook deliveries (admins): a subscription's deliveries with every attempt,
 * redelivery of one or of every dead letter, and a test event. Merged into the served document
 * by `openapi/document.ts`; the routes are in `deliveryRoutes.ts`.
 */

const subscriptionId = {
  in: 'path',
  name: 'id',
  required: true,
  schema: uuidInput,
  description: 'The webhook subscription',
} as const;
const deliveryId = {
  in: 'path',
  name: 'delivery_id',
  required: true,
  schema: uuidInput,
  description: 'The delivery',
} as const;

const statusDescription =
  '`pending` (queued for its next attempt), `delivering` (an attempt under way), `retrying` (an attempt failed; `next_attempt_at` says when the next is), `parked` (the subscription is disabled: no attempt is made or used until it is enabled again), `delivered` (a 2xx answer), `dead_lettered` (out of attempts; redeliverable), `cancelled` (the subscription was deleted)';

export const webhookDeliverySchemas = {
  WebhookDeliveryAttempt: {
    type: 'object',
    required: ['attempt_number', 'started_at', 'duration_ms', 'response_code', 'response_body', 'error'],
    properties: {
      attempt_number: { type: 'integer', minimum: 1, description: 'Counts on across redeliveries' },
      started_at: dateTime,
      duration_ms: { ...nullableInteger, description: 'Null while the attempt is under way (or its worker died)' },
      response_code: { ...nullableInteger, description: 'The HTTP status the endpoint answered; null when none' },
      response_body: {
        ...nullableString,
        description: `The first ${RESPONSE_BODY_KEPT_BYTES} bytes of the response body`,
      },
      error: { ...nullableString, description: 'Why no answer came: refused address, timeout, connection error' },
    },
  },
  WebhookDelivery: {
    type: 'object',
    required: [
      'id',
      'subscription_id',
      'webhook_id',
      'event_type',
      'assessment_id',
      'status',
      'attempt_count',
      'response_code',
      'last_attempt',
      'next_attempt_at',
      'last_error',
      'created_at',
      'completed_at',
      'payload',
      'attempts',
    ],
    properties: {
      id: uuid,
      subscription_id: uuid,
      webhook_id: {
        type: 'string',
        description: 'The `webhook-id` header: the public event’s id, the same on every attempt and redelivery',
      },
      event_type: {
        type: 'string',
        description: 'assessment.completed, assessment.failed, recommendation.feedback_received or webhook.test',
      },
      assessment_id: { ...uuid, nullable: true },
      status: { type: 'string', enum: [...DELIVERY_STATUSES], description: statusDescription },
      attempt_count: count,
      response_code: { ...nullableInteger, description: 'The latest attempt’s HTTP status' },
      last_attempt: nullableDateTime,
      next_attempt_at: nullableDateTime,
      last_error: nullableString,
      created_at: dateTime,
      completed_at: nullableDateTime,
      payload: { type: 'object', additionalProperties: true, description: 'The JSON body delivered' },
      attempts: { type: 'array', items: schema('WebhookDeliveryAttempt'), description: 'Oldest first' },
    },
  },
  WebhookDeliveryPage: {
    type: 'object',
    required: ['items', 'next_cursor'],
    properties: {
      items: { type: 'array', items: schema('WebhookDelivery') },
      next_cursor: {
        ...nullableString,
        description: 'Pass as `cursor` (with the same status) for the next page; null on the last page',
      },
    },
  },
  WebhookRedeliveryResult: {
    type: 'object',
    required: ['redelivered', 'delivery_ids'],
    properties: { redelivered: count, delivery_ids: { type: 'array', items: uuid } },
  },
} as const;

const adminOnly = {
  '403': errorResponse('Caller is not an admin'),
  ...authenticatedErrors,
};
const notFound = errorResponse(
  'No such webhook subscription (WEBHOOK_SUBSCRIPTION_NOT_FOUND) or delivery (DELIVERY_NOT_FOUND)',
);
const disabled =
  'The subscription is disabled (WEBHOOK_DISABLED): enable it first; its deliveries are parked meanwhile';

export const webhookDeliveryPaths = {
  '/admin/webhooks/{id}/deliveries': {
    get: {
      tags: ['Webhooks'],
      operationId: 'listWebhookDeliveries',
      summary: 'A subscription’s deliveries, newest first, each with its attempts (admin)',
      parameters: [
        subscriptionId,
        {
          in: 'query',
          name: 'status',
          required: false,
          schema: { type: 'string', enum: [...DELIVERY_STATUSES] },
          description: 'Only deliveries in this status (`dead_lettered`: the dead letters)',
        },
        {
          in: 'query',
          name: 'limit',
          required: false,
          schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
          description: 'Deliveries at most',
        },
        {
          in: 'query',
          name: 'cursor',
          required: false,
          schema: { type: 'string' },
          description: 'The previous page’s `next_cursor`',
        },
      ],
      responses: {
        '200': jsonResponse('A page of deliveries', schema('WebhookDeliveryPage')),
        '400': errorResponse('A query parameter is malformed (INVALID_QUERY, INVALID_CURSOR)'),
        '404': notFound,
        ...adminOnly,
      },
    },
  },
  '/admin/webhooks/{id}/deliveries/{delivery_id}': {
    get: {
      tags: ['Webhooks'],
      operationId: 'getWebhookDelivery',
      summary: 'One delivery with every attempt (admin)',
      parameters: [subscriptionId, deliveryId],
      responses: {
        '200': jsonResponse('The delivery', schema('WebhookDelivery')),
        '404': notFound,
        ...adminOnly,
      },
    },
  },
  '/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver': {
    post: {
      tags: ['Webhooks'],
      operationId: 'redeliverWebhookDelivery',
      summary: 'Deliver a finished delivery (dead-lettered, delivered) again, with the same webhook-id (admin)',
      description:
        'The delivery is queued again and gets the whole retry schedule anew; its earlier attempts stay listed, and the new ones are numbered on.',
      parameters: [subscriptionId, deliveryId],
      responses: {
        '202': jsonResponse('Queued again', schema('WebhookDelivery')),
        '404': notFound,
        '409': errorResponse(`The delivery is still under way (DELIVERY_NOT_FINISHED), or ${disabled}`),
        ...adminOnly,
      },
    },
  },
  '/admin/webhooks/{id}/redeliver-dead-letters': {
    post: {
      tags: ['Webhooks'],
      operationId: 'redeliverWebhookDeadLetters',
      summary: 'Deliver every dead-lettered delivery of a subscription again (admin)',
      parameters: [subscriptionId],
      responses: {
        '202': jsonResponse('The deliveries queued again (none: 0)', schema('WebhookRedeliveryResult')),
        '404': notFound,
        '409': errorResponse(disabled),
        ...adminOnly,
      },
    },
  },
  '/admin/webhooks/{id}/test': {
    post: {
      tags: ['Webhooks'],
      operationId: 'sendWebhookTest',
      summary: 'Send a `webhook.test` event to this subscription only (admin)',
      description:
        'Signed and retried like any delivery; its body is `{"type": "webhook.test", "timestamp": …, "data": {"subscription_id": …, "message": …}}`.',
      parameters: [subscriptionId],
      responses: {
        '202': jsonResponse('The test delivery, queued', schema('WebhookDelivery')),
        '404': notFound,
        '409': errorResponse(disabled),
        ...adminOnly,
      },
    },
  },
} as const;
