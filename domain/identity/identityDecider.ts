import type { Decider } from '../shared/decider';
import { domainError } from '../shared/errors';
import type { UserCommand } from './decide';
import { aggregateIdOf as userAggregateIdOf, userCommandTypes, userDecider } from './decide';
import type { WebhookSubscriptionCommand } from './decideWebhookSubscription';
import {
  isWebhookSubscriptionCommandType,
  webhookSubscriptionCommandTypes,
  webhookSubscriptionDecider,
} from './decideWebhookSubscription';
import type { UserEvent, UserState } from './user';
import { aggregateType as userAggregateType, userEventTypes } from './user';
import type { WebhookSubscriptionEvent, WebhookSubscriptionState } from './webhookSubscription';
import { webhookSubscriptionAggregateType, webhookSubscriptionEventTypes } from './webhookSubscription';

/**
 * The identity context as one decider (one commands topic, one events topic) over two kinds of
 * aggregate, as the catalog does: users, and partners' webhook subscriptions. A stream holds
 * one aggregate; the sub-states keep each one's rules in its own module.
 */
export type IdentityCommand = UserCommand | WebhookSubscriptionCommand;
export type IdentityEvent = UserEvent | WebhookSubscriptionEvent;

export interface IdentityState {
  user: UserState;
  webhook_subscription: WebhookSubscriptionState;
}

export type IdentityAggregateType = typeof userAggregateType | typeof webhookSubscriptionAggregateType;

export const identityCommandTypes: IdentityCommand['type'][] = [
  ...userCommandTypes,
  ...webhookSubscriptionCommandTypes,
];
export const identityEventTypes: IdentityEvent['type'][] = [...userEventTypes, ...webhookSubscriptionEventTypes];

const isWebhookType = (type: string): boolean =>
  isWebhookSubscriptionCommandType(type) || (webhookSubscriptionEventTypes as string[]).includes(type);

/** `user` or `webhook_subscription`. */
export function identityAggregateTypeOf(message: IdentityCommand | IdentityEvent): IdentityAggregateType {
  return isWebhookType(message.type) ? webhookSubscriptionAggregateType : userAggregateType;
}

export function identityAggregateIdOf(command: IdentityCommand): string {
  return isWebhookSubscriptionCommand(command) ? command.data.subscription_id : userAggregateIdOf(command);
}

function isWebhookSubscriptionCommand(command: IdentityCommand): command is WebhookSubscriptionCommand {
  return isWebhookSubscriptionCommandType(command.type);
}

export const initialIdentityState = (): IdentityState => ({
  user: userDecider.initialState(),
  webhook_subscription: webhookSubscriptionDecider.initialState(),
});

/**
 * The state in the current shape. Decider snapshots taken before webhook subscriptions existed
 * hold a user's state alone (`{status: …}`); they are read as that user with no subscription.
 */
export function identityStateOf(state: IdentityState | UserState): IdentityState {
  if ('user' in state) return state;
  return { user: state, webhook_subscription: webhookSubscriptionDecider.initialState() };
}

export function evolveIdentity(state: IdentityState, event: IdentityEvent): IdentityState {
  const current = identityStateOf(state);
  if (isWebhookType(event.type)) {
    return {
      ...current,
      webhook_subscription: webhookSubscriptionDecider.evolve(
        current.webhook_subscription,
        event as WebhookSubscriptionEvent,
      ),
    };
  }
  return { ...current, user: userDecider.evolve(current.user, event as UserEvent) };
}

export function decideIdentity(command: IdentityCommand, state: IdentityState): IdentityEvent[] {
  const current = identityStateOf(state);
  const id = identityAggregateIdOf(command);
  if (isWebhookSubscriptionCommand(command)) {
    if (current.user.status !== 'unregistered') {
      throw domainError('INVALID_COMMAND', `${id} is the id of a user, not of a webhook subscription.`, {
        field: 'subscription_id',
      });
    }
    return webhookSubscriptionDecider.decide(command, current.webhook_subscription);
  }
  if (current.webhook_subscription.status !== 'none') {
    throw domainError('INVALID_COMMAND', `${id} is the id of a webhook subscription, not of a user.`, {
      field: 'user_id',
    });
  }
  return userDecider.decide(command, current.user);
}

export const identityDecider: Decider<IdentityCommand, IdentityEvent, IdentityState> = {
  initialState: initialIdentityState,
  evolve: evolveIdentity,
  decide: decideIdentity,
};
