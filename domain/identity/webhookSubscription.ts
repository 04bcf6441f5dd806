import type { Event } from '../shared/decider';
import type { PublicEventType } from '../shared/publicEventTypes';

/**
 * A partner's webhook subscription (identity context): where to deliver which public events,
 * and which signing secret is current. Its stream id is the subscription id (a UUID).
 *
 * Events carry `secret_id`, a reference to a secret kept encrypted outside the log
 * (services/webhooks/secrets.ts), never the secret itself: the log is kept for ever and read by
 * many (exports, replays, projections), so a secret in it could never be revoked.
 */
export const webhookSubscriptionAggregateType = 'webhook_subscription';

/** What a subscription says about where and what to deliver; every change event carries all of it. */
export interface WebhookSubscriptionDefinition {
  /** Absolute http(s) URL, without credentials, in its normalised form (WHATWG URL `href`). */
  url: string;
  /** Public event types, each once, in the order given. */
  event_types: PublicEventType[];
  description: string | null;
  /** Deliver in order per assessment (a partner that asks for it gets one delivery at a time per key). */
  ordered: boolean;
}

export type WebhookSubscriptionCreated = Event<
  'WebhookSubscriptionCreated',
  { subscription_id: string; secret_id: string; created_at: string } & WebhookSubscriptionDefinition
>;

/** Carries the complete definition after the change. */
export type WebhookSubscriptionUpdated = Event<
  'WebhookSubscriptionUpdated',
  { subscription_id: string; updated_at: string } & WebhookSubscriptionDefinition
>;

export type WebhookSubscriptionEnabled = Event<
  'WebhookSubscriptionEnabled',
  { subscription_id: string; enabled_at: string }
>;

export type WebhookSubscriptionDisabled = Event<
  'WebhookSubscriptionDisabled',
  { subscription_id: string; reason: string | null; disabled_at: string }
>;

/**
 * A new signing secret is current from `rotated_at`; the one it replaces (`previous_secret_id`)
 * stays valid, signing alongside it, until `previous_valid_until`.
 */
export type WebhookSecretRotated = Event<
  'WebhookSecretRotated',
  {
    subscription_id: string;
    secret_id: string;
    previous_secret_id: string;
    previous_valid_until: string;
    rotated_at: string;
  }
>;

export type WebhookSubscriptionDeleted = Event<
  'WebhookSubscriptionDeleted',
  { subscription_id: string; deleted_at: string }
>;

export type WebhookSubscriptionEvent =
  | WebhookSubscriptionCreated
  | WebhookSubscriptionUpdated
  | WebhookSubscriptionEnabled
  | WebhookSubscriptionDisabled
  | WebhookSecretRotated
  | WebhookSubscriptionDeleted;

const eventTypeSet: Record<WebhookSubscriptionEvent['type'], true> = {
  WebhookSubscriptionCreated: true,
  WebhookSubscriptionUpdated: true,
  WebhookSubscriptionEnabled: true,
  WebhookSubscriptionDisabled: true,
  WebhookSecretRotated: true,
  WebhookSubscriptionDeleted: true,
};
export const webhookSubscriptionEventTypes = Object.keys(eventTypeSet) as WebhookSubscriptionEvent['type'][];

export interface NoWebhookSubscription {
  status: 'none';
}

export interface ExistingWebhookSubscription extends WebhookSubscriptionDefinition {
  /** Deleted is final: the id is never reused. */
  status: 'enabled' | 'disabled' | 'deleted';
  subscription_id: string;
  /** The current signing secret. */
  secret_id: string;
  /** Every secret this subscription ever had, so a rotation never reinstates an old one. */
  secret_ids: string[];
  disabled_reason: string | null;
}

export type WebhookSubscriptionState = NoWebhookSubscription | ExistingWebhookSubscription;

export const initialWebhookSubscriptionState = (): WebhookSubscriptionState => ({ status: 'none' });

export function evolveWebhookSubscription(
  state: WebhookSubscriptionState,
  event: WebhookSubscriptionEvent,
): WebhookSubscriptionState {
  switch (event.type) {
    case 'WebhookSubscriptionCreated': {
      if (state.status !== 'none') return state;
      const { subscription_id, secret_id, url, event_types, description, ordered } = event.data;
      return {
        status: 'enabled',
        subscription_id,
        url,
        event_types,
        description,
        ordered,
        secret_id,
        secret_ids: [secret_id],
        disabled_reason: null,
      };
    }
    case 'WebhookSubscriptionUpdated': {
      if (state.status === 'none' || state.status === 'deleted') return state;
      const { url, event_types, description, ordered } = event.data;
      return { ...state, url, event_types, description, ordered };
    }
    case 'WebhookSubscriptionEnabled':
      if (state.status !== 'disabled') return state;
      return { ...state, status: 'enabled', disabled_reason: null };
    case 'WebhookSubscriptionDisabled':
      if (state.status !== 'enabled') return state;
      return { ...state, status: 'disabled', disabled_reason: event.data.reason };
    case 'WebhookSecretRotated':
      if (state.status === 'none' || state.status === 'deleted') return state;
      return { ...state, secret_id: event.data.secret_id, secret_ids: [...state.secret_ids, event.data.secret_id] };
    case 'WebhookSubscriptionDeleted':
      if (state.status === 'none') return state;
      return { ...state, status: 'deleted' };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}

// --- What a subscription's fields may hold (pure; the API and the CLI check with these too) ---

export const MAX_WEBHOOK_URL = 2048;
export const MAX_WEBHOOK_DESCRIPTION = 500;
/** The longest overlap a rotation may give the previous secret. */
export const MAX_WEBHOOK_SECRET_OVERLAP_SECONDS = 30 * 24 * 60 * 60;

// C0 and C1 control characters, and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/**
 * Why `url` cannot be a webhook URL, or undefined: an absolute http or https URL with a host, no
 * user name or password (credentials in a URL end up in logs and proxies), no fragment (never
 * sent), at most MAX_WEBHOOK_URL characters, without spaces or control characters.
 * Where it may point (https, loopback, private networks) is the URL policy's concern
 * (services/webhooks/urlPolicy.ts): it needs DNS, which the domain does not do.
 */
export function webhookUrlProblem(url: string): string | undefined {
  const shown = url.length > 80 ? `${JSON.stringify(url.slice(0, 77))}...` : JSON.stringify(url);
  if (url.length === 0) return 'url must not be empty.';
  if (url.length > MAX_WEBHOOK_URL) return `url must be at most ${MAX_WEBHOOK_URL} characters (got ${url.length}).`;
  if (/\s/.test(url) || CONTROL.test(url)) return `url must not contain spaces or control characters, got ${shown}.`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `url must be an absolute URL such as https://partner.example/webhooks, got ${shown}.`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `url must be an http or https URL, got the scheme ${JSON.stringify(parsed.protocol.slice(0, -1))}.`;
  }
  if (parsed.hostname === '') return `url must name a host, got ${shown}.`;
  if (parsed.username !== '' || parsed.password !== '') {
    return 'url must not contain a user name or password: authenticate deliveries by their signature.';
  }
  if (parsed.hash !== '' || url.includes('#')) return 'url must not have a fragment (#…): it is never sent.';
  if (parsed.href.length > MAX_WEBHOOK_URL) {
    return `url must be at most ${MAX_WEBHOOK_URL} characters once normalised (got ${parsed.href.length}).`;
  }
  return undefined;
}

/** The normalised form of a URL `webhookUrlProblem` accepts (lower-case scheme and host, default port dropped). */
export function normaliseWebhookUrl(url: string): string {
  return new URL(url).href;
}

/** Why `description` cannot be a description, or undefined (checked after trimming). */
export function webhookDescriptionProblem(description: string): string | undefined {
  if (description.length > MAX_WEBHOOK_DESCRIPTION) {
    return `description must be at most ${MAX_WEBHOOK_DESCRIPTION} characters (got ${description.length}).`;
  }
  if (CONTROL.test(description)) return 'description must be one line of text, without control characters.';
  return undefined;
}
