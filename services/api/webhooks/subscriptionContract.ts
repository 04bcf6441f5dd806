import type { FromSchema } from 'json-schema-to-ts';
import {
  MAX_WEBHOOK_DESCRIPTION,
  MAX_WEBHOOK_SECRET_OVERLAP_SECONDS,
  MAX_WEBHOOK_URL,
} from '../../../domain/identity/webhookSubscription';
import { publicEventTypes } from '../../../domain/shared/publicEventTypes';
import {
  authenticatedErrors,
  dateTime,
  errorResponse,
  jsonBody,
  jsonResponse,
  nullableString,
  parameter,
  response,
  schema,
  uuid,
} from '../openapi/helpers';
import { uuidInput } from '../openapi/requestConstraints';

/**
 * The contract of partners' webhook subscriptions (admin only). Merged into the served document
 * by `openapi/document.ts`; the routes read their bodies with these very schemas.
 */

const eventTypesText = publicEventTypes.map((t) => `\`${t}\``).join(', ');
const urlRules = `An absolute https URL without a user name or password, at most ${MAX_WEBHOOK_URL} characters. Plain http only to loopback, for development (\`WEBHOOK_ALLOW_LOOPBACK\`, default true except in production); every address the host resolves to must be public unless \`WEBHOOK_ALLOW_PRIVATE_NETWORKS=true\` (private, link-local, unique-local); loopback is refused when not allowed; unspecified, multicast, reserved and cloud-metadata addresses always are.`;
const refusals =
  'INVALID_WEBHOOK_URL (form), WEBHOOK_URL_FORBIDDEN (where it points: SSRF policy), WEBHOOK_URL_UNRESOLVABLE (the host does not resolve), INVALID_WEBHOOK_EVENT_TYPES (unknown, repeated or none), INVALID_WEBHOOK_SUBSCRIPTION (description); details.field names the field';

// Lengths, URL policy and event type names are checked by the domain and the URL policy (422,
// one clear message), not here (that would be a 400 listing schema keywords): only the shape is.
export const WebhookSubscriptionInput = {
  type: 'object',
  description: `A webhook subscription to create. ${urlRules}`,
  required: ['url', 'event_types'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', description: 'Where deliveries are POSTed' },
    event_types: {
      type: 'array',
      items: { type: 'string' },
      description: `The public event types wanted, each once: ${eventTypesText}`,
    },
    description: {
      type: 'string',
      nullable: true,
      description: `For people: at most ${MAX_WEBHOOK_DESCRIPTION} characters on one line`,
    },
    ordered: {
      type: 'boolean',
      default: false,
      description: 'Deliver the events of one assessment one at a time, in order (slower; for partners that need it)',
    },
  },
} as const;
export type WebhookSubscriptionInputBody = FromSchema<typeof WebhookSubscriptionInput>;

export const WebhookSubscriptionPatch = {
  type: 'object',
  description: `Changes to a webhook subscription: the fields given replace the current ones; \`enabled\` enables or disables it (deliveries stop while it is disabled and resume from where they stopped), \`description: null\` or \`""\` removes the description. The URL follows the same rules as at creation. ${urlRules}`,
  additionalProperties: false,
  minProperties: 1,
  properties: {
    enabled: { type: 'boolean' },
    url: { type: 'string' },
    event_types: { type: 'array', items: { type: 'string' } },
    description: { type: 'string', nullable: true },
    ordered: { type: 'boolean' },
  },
} as const;
export type WebhookSubscriptionPatchBody = FromSchema<typeof WebhookSubscriptionPatch>;

export const WebhookSecretRotationInput = {
  type: 'object',
  description:
    'How long the current secret keeps signing beside the new one (deliveries carry both signatures meanwhile, so the partner can switch without losing any).',
  additionalProperties: false,
  properties: {
    overlap_seconds: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_WEBHOOK_SECRET_OVERLAP_SECONDS,
      description:
        'Seconds the previous secret stays valid (0: it stops at once); default WEBHOOK_SECRET_OVERLAP_SECONDS (86400)',
    },
  },
} as const;
export type WebhookSecretRotationBody = FromSchema<typeof WebhookSecretRotationInput>;

const subscriptionProperties = {
  id: uuid,
  url: { type: 'string' },
  event_types: { type: 'array', items: { type: 'string', enum: [...publicEventTypes] } },
  description: nullableString,
  enabled: { type: 'boolean' },
  ordered: { type: 'boolean' },
  disabled_reason: { ...nullableString, description: 'Why it was disabled (e.g. the partner answered 410 Gone)' },
  created_at: dateTime,
  updated_at: dateTime,
  version: { type: 'integer', description: 'Changes with every change to the subscription' },
} as const;
const subscriptionRequired = [
  'id',
  'url',
  'event_types',
  'description',
  'enabled',
  'ordered',
  'disabled_reason',
  'created_at',
  'updated_at',
  'version',
] as const;

const secret = {
  type: 'string',
  pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
  description:
    'The signing secret (Standard Webhooks: whsec_ and base64 of 32 random bytes). Shown only in this answer: store it now; it is never returned again',
} as const;

export const webhookSubscriptionSchemas = {
  WebhookSubscriptionInput,
  WebhookSubscriptionPatch,
  WebhookSecretRotationInput,
  WebhookSubscription: {
    type: 'object',
    description: 'A partner webhook subscription, without its secret',
    required: [...subscriptionRequired],
    additionalProperties: false,
    properties: subscriptionProperties,
  },
  WebhookSubscriptionCreated: {
    type: 'object',
    description: 'The new subscription, with its signing secret (the only time it is shown)',
    required: [...subscriptionRequired, 'secret'],
    additionalProperties: false,
    properties: { ...subscriptionProperties, secret },
  },
  WebhookSubscriptionList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: schema('WebhookSubscription') } },
  },
  WebhookSecretRotated: {
    type: 'object',
    required: ['secret', 'previous_valid_until'],
    additionalProperties: false,
    properties: {
      secret,
      previous_valid_until: {
        ...dateTime,
        description: 'Until when the previous secret keeps signing (deliveries carry both signatures until then)',
      },
    },
  },
} as const;

const SubscriptionId = { name: 'id', in: 'path', required: true, schema: uuidInput } as const;
const tags = ['Webhooks'];
const adminOnly = errorResponse('Caller is not an admin');
const notFound = errorResponse('WEBHOOK_SUBSCRIPTION_NOT_FOUND: no such subscription, or it was deleted');

export const webhookSubscriptionPaths = {
  '/admin/webhooks': {
    get: {
      tags,
      operationId: 'listWebhookSubscriptions',
      summary: 'List webhook subscriptions, oldest first (admin)',
      responses: {
        '200': jsonResponse('The subscriptions, without secrets', schema('WebhookSubscriptionList')),
        '403': adminOnly,
        ...authenticatedErrors,
      },
    },
    post: {
      tags,
      operationId: 'createWebhookSubscription',
      summary: 'Subscribe a partner URL to public events; answers its signing secret, once (admin)',
      description:
        'The answer is the only time the secret is shown. Send an `Idempotency-Key`: a retry with it answers the same subscription and the same secret (also after a 202 or a lost answer).',
      parameters: [parameter('IdempotencyKey')],
      requestBody: jsonBody('WebhookSubscriptionInput'),
      responses: {
        '201': jsonResponse('Subscription created, enabled, with its secret', schema('WebhookSubscriptionCreated')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON, missing or unknown fields, or a field of the wrong type'),
        '403': adminOnly,
        '409': errorResponse('WEBHOOK_SUBSCRIPTION_ALREADY_EXISTS: an Idempotency-Key reused after its window'),
        '422': errorResponse(refusals),
        ...authenticatedErrors,
      },
    },
  },
  '/admin/webhooks/{id}': {
    get: {
      tags,
      operationId: 'getWebhookSubscription',
      summary: 'A webhook subscription, without its secret (admin)',
      parameters: [SubscriptionId],
      responses: {
        '200': jsonResponse('The subscription', schema('WebhookSubscription')),
        '403': adminOnly,
        '404': notFound,
        ...authenticatedErrors,
      },
    },
    patch: {
      tags,
      operationId: 'updateWebhookSubscription',
      summary: 'Enable or disable a subscription, or change its URL, event types, description or ordering (admin)',
      parameters: [SubscriptionId],
      requestBody: jsonBody('WebhookSubscriptionPatch'),
      responses: {
        '200': jsonResponse('The subscription after the change', schema('WebhookSubscription')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON, no field, unknown fields, or a field of the wrong type'),
        '403': adminOnly,
        '404': notFound,
        '422': errorResponse(refusals),
        ...authenticatedErrors,
      },
    },
    delete: {
      tags,
      operationId: 'deleteWebhookSubscription',
      summary: 'Delete a subscription: nothing more is delivered to it, and its secrets are destroyed (admin)',
      parameters: [SubscriptionId],
      responses: {
        '202': response('CommandPending'),
        '204': { description: 'Subscription deleted' },
        '403': adminOnly,
        '404': notFound,
        '409': errorResponse('The decider refused the deletion as conflicting with a change made meanwhile'),
        '422': errorResponse('The decider refused the command as invalid'),
        ...authenticatedErrors,
      },
    },
  },
  '/admin/webhooks/{id}/rotate-secret': {
    post: {
      tags,
      operationId: 'rotateWebhookSecret',
      summary: 'Replace the signing secret; the previous one keeps signing for an overlap (admin)',
      description:
        'Answers the new secret, the only time it is shown. Until `previous_valid_until`, deliveries carry a signature with each secret (space-separated in `webhook-signature`). Send an `Idempotency-Key`: a retry with it answers the same secret.',
      parameters: [SubscriptionId, parameter('IdempotencyKey')],
      requestBody: { ...jsonBody('WebhookSecretRotationInput'), required: false },
      responses: {
        '200': jsonResponse('The new secret', schema('WebhookSecretRotated')),
        '202': response('CommandPending'),
        '400': errorResponse('Malformed JSON, unknown fields, or overlap_seconds out of range'),
        '403': adminOnly,
        '404': notFound,
        '409': errorResponse('WEBHOOK_SECRET_ALREADY_USED: an Idempotency-Key reused after its window'),
        '422': errorResponse('INVALID_WEBHOOK_SUBSCRIPTION: the decider refused the rotation (details.field)'),
        ...authenticatedErrors,
      },
    },
  },
} as const;
