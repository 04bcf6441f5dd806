import type { Command, Decider } from '../shared/decider';
import { domainError } from '../shared/errors';
import type { PublicEventType } from '../shared/publicEventTypes';
import { isPublicEventType, publicEventTypes } from '../shared/publicEventTypes';
import {
  describe,
  nowOf,
  optionalText,
  requireAdmin,
  requireBoolean,
  requireInstant,
  requireUuid,
} from '../shared/validation';
import type {
  ExistingWebhookSubscription,
  WebhookSubscriptionDefinition,
  WebhookSubscriptionEvent,
  WebhookSubscriptionState,
} from './webhookSubscription';
import {
  evolveWebhookSubscription,
  initialWebhookSubscriptionState,
  MAX_WEBHOOK_SECRET_OVERLAP_SECONDS,
  normaliseWebhookUrl,
  webhookDescriptionProblem,
  webhookUrlProblem,
} from './webhookSubscription';

/**
 * Webhook subscription commands. Admins manage subscriptions; the system may too (the operator's
 * CLI acts as the system, as it does for the catalog; the deliverer disables a subscription whose
 * partner answered 410 Gone). Students and advisors may not.
 */

export type CreateWebhookSubscription = Command<
  'CreateWebhookSubscription',
  {
    subscription_id: string;
    url: string;
    event_types: string[];
    description?: string | null;
    ordered?: boolean | null;
    /** The signing secret issued for it (kept outside the log); derived from the command id. */
    secret_id: string;
  }
>;

/** Partial: fields left out (or null) keep their value; a description of "" removes it. */
export type UpdateWebhookSubscription = Command<
  'UpdateWebhookSubscription',
  {
    subscription_id: string;
    url?: string | null;
    event_types?: string[] | null;
    description?: string | null;
    ordered?: boolean | null;
  }
>;

export type EnableWebhookSubscription = Command<'EnableWebhookSubscription', { subscription_id: string }>;

export type DisableWebhookSubscription = Command<
  'DisableWebhookSubscription',
  { subscription_id: string; reason?: string | null }
>;

export type RotateWebhookSecret = Command<
  'RotateWebhookSecret',
  {
    subscription_id: string;
    /** The new secret (issued beforehand, kept outside the log). */
    secret_id: string;
    /** Until when the current secret keeps signing alongside the new one; now or earlier ends it at once. */
    previous_valid_until: string;
  }
>;

export type DeleteWebhookSubscription = Command<'DeleteWebhookSubscription', { subscription_id: string }>;

export type WebhookSubscriptionCommand =
  | CreateWebhookSubscription
  | UpdateWebhookSubscription
  | EnableWebhookSubscription
  | DisableWebhookSubscription
  | RotateWebhookSecret
  | DeleteWebhookSubscription;

const commandTypeSet: Record<WebhookSubscriptionCommand['type'], true> = {
  CreateWebhookSubscription: true,
  UpdateWebhookSubscription: true,
  EnableWebhookSubscription: true,
  DisableWebhookSubscription: true,
  RotateWebhookSecret: true,
  DeleteWebhookSubscription: true,
};
export const webhookSubscriptionCommandTypes = Object.keys(commandTypeSet) as WebhookSubscriptionCommand['type'][];

export function isWebhookSubscriptionCommandType(type: string): type is WebhookSubscriptionCommand['type'] {
  return type in commandTypeSet;
}

// --- Field rules -------------------------------------------------------------------------------

function validateUrl(value: unknown): string {
  if (typeof value !== 'string') {
    throw domainError('INVALID_WEBHOOK_URL', `url must be a string, got ${describe(value)}.`, { field: 'url' });
  }
  const problem = webhookUrlProblem(value);
  if (problem !== undefined) throw domainError('INVALID_WEBHOOK_URL', problem, { field: 'url' });
  return normaliseWebhookUrl(value);
}

function validateEventTypes(value: unknown): PublicEventType[] {
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw domainError('INVALID_WEBHOOK_EVENT_TYPES', message, {
      field: 'event_types',
      allowed: [...publicEventTypes],
      ...details,
    });
  };
  if (!Array.isArray(value) || value.length === 0) {
    return fail(`event_types must be a non-empty list of public event types (${publicEventTypes.join(', ')}).`);
  }
  const seen = new Set<string>();
  return value.map((type: unknown) => {
    if (!isPublicEventType(type)) {
      return fail(`${describe(type)} is not a public event type; choose from ${publicEventTypes.join(', ')}.`, {
        unknown: typeof type === 'string' ? type : describe(type),
      });
    }
    if (seen.has(type)) return fail(`event_types lists "${type}" twice.`);
    seen.add(type);
    return type;
  });
}

/** undefined when absent (keep), null when empty (none), else the trimmed text. */
function validateDescription(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  const text = optionalText(value, 'description', { code: 'INVALID_WEBHOOK_SUBSCRIPTION', allowEmpty: true });
  if (text === null || text === '') return null;
  const problem = webhookDescriptionProblem(text);
  if (problem !== undefined) throw domainError('INVALID_WEBHOOK_SUBSCRIPTION', problem, { field: 'description' });
  return text;
}

function validateOrdered(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  return requireBoolean(value, 'ordered', 'INVALID_WEBHOOK_SUBSCRIPTION');
}

/** The subscription, or 404: none was created with this id, or it was deleted (a deleted one is gone). */
function requireExisting(state: WebhookSubscriptionState, subscriptionId: string): ExistingWebhookSubscription {
  if (state.status === 'none') {
    throw domainError('WEBHOOK_SUBSCRIPTION_NOT_FOUND', `No webhook subscription with id ${subscriptionId}.`);
  }
  if (state.status === 'deleted') {
    throw domainError('WEBHOOK_SUBSCRIPTION_NOT_FOUND', `Webhook subscription ${subscriptionId} was deleted.`, {
      deleted: true,
    });
  }
  return state;
}

// --- Decisions ---------------------------------------------------------------------------------

export function createWebhookSubscription(
  command: CreateWebhookSubscription,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'create a webhook subscription');
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const secretId = requireUuid(data.secret_id, 'secret_id');
  const createdAt = requireInstant(metadata.now, 'metadata.now');
  if (state.status !== 'none') {
    throw domainError(
      'WEBHOOK_SUBSCRIPTION_ALREADY_EXISTS',
      state.status === 'deleted'
        ? `Webhook subscription ${subscriptionId} existed and was deleted; its id is not reused.`
        : `Webhook subscription ${subscriptionId} already exists.`,
    );
  }
  const definition: WebhookSubscriptionDefinition = {
    url: validateUrl(data.url),
    event_types: validateEventTypes(data.event_types),
    description: validateDescription(data.description) ?? null,
    ordered: validateOrdered(data.ordered) ?? false,
  };
  return [
    {
      type: 'WebhookSubscriptionCreated',
      data: { subscription_id: subscriptionId, ...definition, secret_id: secretId, created_at: createdAt },
    },
  ];
}

export function updateWebhookSubscription(
  command: UpdateWebhookSubscription,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'update a webhook subscription');
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const updatedAt = requireInstant(metadata.now, 'metadata.now');
  const current = requireExisting(state, subscriptionId);
  const { url, event_types, description, ordered } = data;
  if ([url, event_types, description, ordered].every((v) => v === undefined || v === null)) {
    throw domainError(
      'NOTHING_TO_REVISE',
      'A webhook subscription update must change at least one of: url, event_types, description, ordered.',
    );
  }
  const definition: WebhookSubscriptionDefinition = {
    url: url === undefined || url === null ? current.url : validateUrl(url),
    event_types:
      event_types === undefined || event_types === null ? current.event_types : validateEventTypes(event_types),
    description:
      description === undefined || description === null
        ? current.description
        : (validateDescription(description) ?? null),
    ordered: validateOrdered(ordered) ?? current.ordered,
  };
  return [
    {
      type: 'WebhookSubscriptionUpdated',
      data: { subscription_id: subscriptionId, ...definition, updated_at: updatedAt },
    },
  ];
}

export function enableWebhookSubscription(
  command: EnableWebhookSubscription,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'enable a webhook subscription');
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const enabledAt = requireInstant(metadata.now, 'metadata.now');
  const current = requireExisting(state, subscriptionId);
  if (current.status === 'enabled') {
    throw domainError(
      'WEBHOOK_SUBSCRIPTION_ALREADY_ENABLED',
      `Webhook subscription ${subscriptionId} is already enabled.`,
    );
  }
  return [{ type: 'WebhookSubscriptionEnabled', data: { subscription_id: subscriptionId, enabled_at: enabledAt } }];
}

export function disableWebhookSubscription(
  command: DisableWebhookSubscription,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'disable a webhook subscription');
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const reason = optionalText(data.reason, 'reason', { code: 'INVALID_WEBHOOK_SUBSCRIPTION', maxLength: 1000 });
  const disabledAt = requireInstant(metadata.now, 'metadata.now');
  const current = requireExisting(state, subscriptionId);
  if (current.status === 'disabled') {
    throw domainError(
      'WEBHOOK_SUBSCRIPTION_ALREADY_DISABLED',
      `Webhook subscription ${subscriptionId} is already disabled.`,
      { reason: current.disabled_reason },
    );
  }
  return [
    { type: 'WebhookSubscriptionDisabled', data: { subscription_id: subscriptionId, reason, disabled_at: disabledAt } },
  ];
}

export function rotateWebhookSecret(
  command: RotateWebhookSecret,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, "rotate a webhook subscription's secret");
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const secretId = requireUuid(data.secret_id, 'secret_id');
  const rotatedAt = requireInstant(metadata.now, 'metadata.now');
  const previousValidUntil = requireInstant(
    data.previous_valid_until,
    'previous_valid_until',
    'INVALID_WEBHOOK_SUBSCRIPTION',
  );
  const latest = nowOf(metadata) + MAX_WEBHOOK_SECRET_OVERLAP_SECONDS * 1000;
  if (Date.parse(previousValidUntil) > latest) {
    throw domainError(
      'INVALID_WEBHOOK_SUBSCRIPTION',
      `previous_valid_until may be at most ${MAX_WEBHOOK_SECRET_OVERLAP_SECONDS} seconds (30 days) after the rotation.`,
      { field: 'previous_valid_until' },
    );
  }
  const current = requireExisting(state, subscriptionId);
  if (current.secret_ids.includes(secretId)) {
    throw domainError(
      'WEBHOOK_SECRET_ALREADY_USED',
      `Secret ${secretId} ${secretId === current.secret_id ? 'is already the current one' : 'was used before'}; rotate to a new secret.`,
    );
  }
  return [
    {
      type: 'WebhookSecretRotated',
      data: {
        subscription_id: subscriptionId,
        secret_id: secretId,
        previous_secret_id: current.secret_id,
        previous_valid_until: previousValidUntil,
        rotated_at: rotatedAt,
      },
    },
  ];
}

export function deleteWebhookSubscription(
  command: DeleteWebhookSubscription,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'delete a webhook subscription');
  const subscriptionId = requireUuid(data.subscription_id, 'subscription_id');
  const deletedAt = requireInstant(metadata.now, 'metadata.now');
  requireExisting(state, subscriptionId);
  return [{ type: 'WebhookSubscriptionDeleted', data: { subscription_id: subscriptionId, deleted_at: deletedAt } }];
}

export function decideWebhookSubscription(
  command: WebhookSubscriptionCommand,
  state: WebhookSubscriptionState,
): WebhookSubscriptionEvent[] {
  switch (command.type) {
    case 'CreateWebhookSubscription':
      return createWebhookSubscription(command, state);
    case 'UpdateWebhookSubscription':
      return updateWebhookSubscription(command, state);
    case 'EnableWebhookSubscription':
      return enableWebhookSubscription(command, state);
    case 'DisableWebhookSubscription':
      return disableWebhookSubscription(command, state);
    case 'RotateWebhookSecret':
      return rotateWebhookSecret(command, state);
    case 'DeleteWebhookSubscription':
      return deleteWebhookSubscription(command, state);
    default: {
      const unknown: never = command;
      throw domainError(
        'INVALID_COMMAND',
        `Unknown webhook subscription command ${describe((unknown as { type: unknown }).type)}.`,
      );
    }
  }
}

export const webhookSubscriptionDecider: Decider<
  WebhookSubscriptionCommand,
  WebhookSubscriptionEvent,
  WebhookSubscriptionState
> = {
  initialState: initialWebhookSubscriptionState,
  evolve: evolveWebhookSubscription,
  decide: decideWebhookSubscription,
};
