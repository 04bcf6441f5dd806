import type { Actor, CommandMetadata } from '../shared/decider';
import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey, userIdForEmail } from '../shared/ids';
import { publicEventTypes } from '../shared/publicEventTypes';
import type {
  CreateWebhookSubscription,
  DeleteWebhookSubscription,
  DisableWebhookSubscription,
  EnableWebhookSubscription,
  RotateWebhookSecret,
  UpdateWebhookSubscription,
} from './decideWebhookSubscription';
import { webhookSubscriptionDecider } from './decideWebhookSubscription';
import type { IdentityCommand, IdentityEvent } from './identityDecider';
import {
  identityAggregateIdOf,
  identityAggregateTypeOf,
  identityDecider,
  identityStateOf,
  initialIdentityState,
} from './identityDecider';
import type { UserRegistered } from './user';
import type {
  WebhookSecretRotated,
  WebhookSubscriptionCreated,
  WebhookSubscriptionDeleted,
  WebhookSubscriptionDisabled,
  WebhookSubscriptionEnabled,
  WebhookSubscriptionUpdated,
} from './webhookSubscription';
import { MAX_WEBHOOK_URL, webhookUrlProblem } from './webhookSubscription';

const given = DeciderSpecification.for(webhookSubscriptionDecider);

const now = '2025-03-01T09:00:00.000Z';
const subscriptionId = idFromKey('webhook_subscription', 'spec');
const secretId = idFromKey('webhook_secret', 'spec-1');
const nextSecretId = idFromKey('webhook_secret', 'spec-2');
const admin: Actor = { id: userIdForEmail('root@example.com'), role: 'admin' };
const system: Actor = { id: 'system:webhooks', role: 'system' };
const student: Actor = { id: userIdForEmail('ada@example.com'), role: 'student' };
const advisor: Actor = { id: userIdForEmail('grace@example.com'), role: 'advisor' };

const meta = (actor: Actor): CommandMetadata => ({ command_id: idFromKey('command', 'webhook-spec'), now, actor });

const create = (
  data: Partial<CreateWebhookSubscription['data']> = {},
  actor: Actor = admin,
): CreateWebhookSubscription => ({
  type: 'CreateWebhookSubscription',
  data: {
    subscription_id: subscriptionId,
    url: 'https://partner.example/hooks/microcred',
    event_types: ['assessment.completed'],
    description: 'Advisor platform',
    secret_id: secretId,
    ...data,
  },
  metadata: meta(actor),
});
const update = (data: Omit<UpdateWebhookSubscription['data'], 'subscription_id'>, actor = admin) =>
  ({
    type: 'UpdateWebhookSubscription',
    data: { subscription_id: subscriptionId, ...data },
    metadata: meta(actor),
  }) satisfies UpdateWebhookSubscription;
const enable = (actor = admin): EnableWebhookSubscription => ({
  type: 'EnableWebhookSubscription',
  data: { subscription_id: subscriptionId },
  metadata: meta(actor),
});
const disable = (actor: Actor = admin, reason: string | null = 'partner asked'): DisableWebhookSubscription => ({
  type: 'DisableWebhookSubscription',
  data: { subscription_id: subscriptionId, reason },
  metadata: meta(actor),
});
const rotate = (data: Partial<RotateWebhookSecret['data']> = {}, actor: Actor = admin): RotateWebhookSecret => ({
  type: 'RotateWebhookSecret',
  data: {
    subscription_id: subscriptionId,
    secret_id: nextSecretId,
    previous_valid_until: '2025-03-02T09:00:00.000Z',
    ...data,
  },
  metadata: meta(actor),
});
const remove = (actor = admin): DeleteWebhookSubscription => ({
  type: 'DeleteWebhookSubscription',
  data: { subscription_id: subscriptionId },
  metadata: meta(actor),
});

const created: WebhookSubscriptionCreated = {
  type: 'WebhookSubscriptionCreated',
  data: {
    subscription_id: subscriptionId,
    url: 'https://partner.example/hooks/microcred',
    event_types: ['assessment.completed'],
    description: 'Advisor platform',
    ordered: false,
    secret_id: secretId,
    created_at: now,
  },
};
const updated = (data: Partial<WebhookSubscriptionUpdated['data']> = {}): WebhookSubscriptionUpdated => {
  const { secret_id: _secret, created_at: _created, ...definition } = created.data;
  return { type: 'WebhookSubscriptionUpdated', data: { ...definition, updated_at: now, ...data } };
};
const disabled: WebhookSubscriptionDisabled = {
  type: 'WebhookSubscriptionDisabled',
  data: { subscription_id: subscriptionId, reason: 'partner asked', disabled_at: now },
};
const enabled: WebhookSubscriptionEnabled = {
  type: 'WebhookSubscriptionEnabled',
  data: { subscription_id: subscriptionId, enabled_at: now },
};
const rotated: WebhookSecretRotated = {
  type: 'WebhookSecretRotated',
  data: {
    subscription_id: subscriptionId,
    secret_id: nextSecretId,
    previous_secret_id: secretId,
    previous_valid_until: '2025-03-02T09:00:00.000Z',
    rotated_at: now,
  },
};
const deleted: WebhookSubscriptionDeleted = {
  type: 'WebhookSubscriptionDeleted',
  data: { subscription_id: subscriptionId, deleted_at: now },
};

describe('Webhook subscription decider', () => {
  describe('when none exists', () => {
    describe('CreateWebhookSubscription', () => {
      test('an admin creates a subscription: enabled, unordered by default, with a reference to its secret', () => {
        given([]).when(create()).then([created]);
        expect(stateAfter(webhookSubscriptionDecider, [created])).toMatchObject({
          status: 'enabled',
          secret_id: secretId,
        });
      });

      test('the system may create one too (the operator CLI acts as the system)', () => {
        given([]).when(create({}, system)).then([created]);
      });

      test.each([
        ['a student', student],
        ['an advisor', advisor],
      ])('%s may not', (_name, actor) => {
        given([]).when(create({}, actor)).thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden' });
      });

      test('every public event type, ordered, no description; the URL is stored normalised', () => {
        given([])
          .when(
            create({
              url: 'HTTPS://Partner.Example:443/hooks?x=1',
              event_types: [...publicEventTypes],
              description: '   ',
              ordered: true,
            }),
          )
          .then([
            {
              ...created,
              data: {
                ...created.data,
                url: 'https://partner.example/hooks?x=1',
                event_types: [...publicEventTypes],
                description: null,
                ordered: true,
              },
            },
          ]);
      });

      test('plain http is the URL policy’s concern (loopback in development), not the domain’s', () => {
        given([])
          .when(create({ url: 'http://127.0.0.1:8080/hook' }))
          .then([{ ...created, data: { ...created.data, url: 'http://127.0.0.1:8080/hook' } }]);
      });

      test.each<[string, unknown, RegExp]>([
        ['not a string', 42, /must be a string/],
        ['empty', '', /must not be empty/],
        ['relative', '/hooks', /absolute URL/],
        ['another scheme', 'ftp://partner.example/hooks', /http or https/],
        ['a javascript: URL', 'javascript:alert(1)', /http or https/],
        ['with a user and password', 'https://user:pw@partner.example/hooks', /user name or password/],
        ['with a user only', 'https://user@partner.example/hooks', /user name or password/],
        ['with a fragment', 'https://partner.example/hooks#top', /fragment/],
        ['with a space', 'https://partner.example/my hooks', /spaces or control characters/],
        ['with a control character', 'https://partner.example/\u0000', /spaces or control characters/],
        ['too long', `https://partner.example/${'a'.repeat(MAX_WEBHOOK_URL)}`, /at most 2048 characters/],
      ])('a URL %s is refused', (_name, url, message) => {
        given([])
          .when(create({ url: url as string }))
          .thenThrows('INVALID_WEBHOOK_URL', { kind: 'validation', details: { field: 'url' }, message });
      });

      test('a URL of exactly 2048 characters is accepted', () => {
        const url = `https://partner.example/${'a'.repeat(MAX_WEBHOOK_URL - 'https://partner.example/'.length)}`;
        expect(url).toHaveLength(MAX_WEBHOOK_URL);
        expect(webhookUrlProblem(url)).toBeUndefined();
        given([])
          .when(create({ url }))
          .then([{ ...created, data: { ...created.data, url } }]);
      });

      test.each<[string, unknown, RegExp]>([
        ['no list', undefined, /non-empty list/],
        ['an empty list', [], /non-empty list/],
        ['an unknown type', ['assessment.started'], /"assessment.started" is not a public event type/],
        ['an internal event name', ['AssessmentCompleted'], /not a public event type/],
        ['a duplicate', ['assessment.completed', 'assessment.completed'], /twice/],
        ['a number', [1], /not a public event type/],
      ])('event types: %s is refused', (_name, eventTypes, message) => {
        given([])
          .when(create({ event_types: eventTypes as string[] }))
          .thenThrows('INVALID_WEBHOOK_EVENT_TYPES', {
            kind: 'validation',
            details: { field: 'event_types', allowed: [...publicEventTypes] },
            message,
          });
      });

      test.each<[string, unknown, RegExp]>([
        ['over 500 characters', 'x'.repeat(501), /at most 500 characters/],
        ['with a line break', 'two\nlines', /control characters/],
        ['with a C1 control', 'bell\u0085', /control characters/],
        ['not a string', 7, /must be a string/],
      ])('a description %s is refused', (_name, description, message) => {
        given([])
          .when(create({ description: description as string }))
          .thenThrows('INVALID_WEBHOOK_SUBSCRIPTION', { details: { field: 'description' }, message });
      });

      test('ordered must be a boolean', () => {
        given([])
          .when(create({ ordered: 'yes' as never }))
          .thenThrows('INVALID_WEBHOOK_SUBSCRIPTION', { details: { field: 'ordered' } });
      });

      test('ids must be UUIDs', () => {
        given([])
          .when(create({ subscription_id: 'hook-1' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'subscription_id' } });
        given([])
          .when(create({ secret_id: 'whsec_abc' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'secret_id' } });
      });

      test('no secret can be passed through: extra fields are not recorded', () => {
        const command = create();
        (command.data as Record<string, unknown>).secret = 'whsec_c2VjcmV0';
        const [event] = given([]).when(command).thenEvents();
        expect(JSON.stringify(event)).not.toContain('whsec_');
      });
    });

    test.each<[string, IdentityCommandOfWebhook]>([
      ['UpdateWebhookSubscription', update({ ordered: true })],
      ['EnableWebhookSubscription', enable()],
      ['DisableWebhookSubscription', disable()],
      ['RotateWebhookSecret', rotate()],
      ['DeleteWebhookSubscription', remove()],
    ])('%s is refused: not found', (_name, command) => {
      given([]).when(command).thenThrows('WEBHOOK_SUBSCRIPTION_NOT_FOUND', { kind: 'not_found' });
    });
  });

  describe('when enabled', () => {
    test('CreateWebhookSubscription is refused: it exists', () => {
      given([created]).when(create()).thenThrows('WEBHOOK_SUBSCRIPTION_ALREADY_EXISTS', { kind: 'conflict' });
    });

    describe('UpdateWebhookSubscription', () => {
      test('changes the fields given and carries the complete definition', () => {
        given([created])
          .when(update({ event_types: ['assessment.failed', 'assessment.completed'], ordered: true }))
          .then([updated({ event_types: ['assessment.failed', 'assessment.completed'], ordered: true })]);
      });

      test('a new URL is validated and normalised', () => {
        given([created])
          .when(update({ url: 'https://NEW.example/h' }))
          .then([updated({ url: 'https://new.example/h' })]);
        given([created])
          .when(update({ url: 'https://a:b@new.example/h' }))
          .thenThrows('INVALID_WEBHOOK_URL');
      });

      test('an empty description removes it; null keeps it', () => {
        given([created])
          .when(update({ description: '' }))
          .then([updated({ description: null })]);
        given([created])
          .when(update({ description: null, ordered: true }))
          .then([updated({ ordered: true })]);
      });

      test('an update that changes nothing is refused', () => {
        given([created]).when(update({})).thenThrows('NOTHING_TO_REVISE', { kind: 'validation' });
        given([created])
          .when(update({ url: null, event_types: null }))
          .thenThrows('NOTHING_TO_REVISE');
      });

      test('invalid event types are refused', () => {
        given([created])
          .when(update({ event_types: ['nope'] }))
          .thenThrows('INVALID_WEBHOOK_EVENT_TYPES');
      });

      test('a student may not', () => {
        given([created])
          .when(update({ ordered: true }, student))
          .thenThrows('ADMIN_ROLE_REQUIRED');
      });
    });

    test('EnableWebhookSubscription is refused: already enabled', () => {
      given([created]).when(enable()).thenThrows('WEBHOOK_SUBSCRIPTION_ALREADY_ENABLED', { kind: 'conflict' });
    });

    describe('DisableWebhookSubscription', () => {
      test('an admin disables it with a reason', () => {
        given([created]).when(disable()).then([disabled]);
        expect(stateAfter(webhookSubscriptionDecider, [created, disabled])).toMatchObject({
          status: 'disabled',
          disabled_reason: 'partner asked',
        });
      });

      test('the deliverer (system) disables it when the partner answers 410 Gone', () => {
        given([created])
          .when(disable(system, 'the endpoint answered 410 Gone'))
          .then([{ ...disabled, data: { ...disabled.data, reason: 'the endpoint answered 410 Gone' } }]);
      });

      test('the reason is optional, at most 1000 characters', () => {
        given([created])
          .when(disable(admin, null))
          .then([{ ...disabled, data: { ...disabled.data, reason: null } }]);
        given([created])
          .when(disable(admin, 'x'.repeat(1001)))
          .thenThrows('INVALID_WEBHOOK_SUBSCRIPTION', { details: { field: 'reason' } });
      });

      test.each([
        ['a student', student],
        ['an advisor', advisor],
      ])('%s may not', (_name, actor) => {
        given([created]).when(disable(actor)).thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden' });
      });
    });

    describe('RotateWebhookSecret', () => {
      test('the new secret becomes current; the event names the previous one and its end', () => {
        given([created]).when(rotate()).then([rotated]);
        expect(stateAfter(webhookSubscriptionDecider, [created, rotated])).toMatchObject({
          secret_id: nextSecretId,
          secret_ids: [secretId, nextSecretId],
        });
      });

      test('an overlap ending now or before ends the previous secret at once', () => {
        given([created])
          .when(rotate({ previous_valid_until: '2025-03-01T08:59:59.990Z' }))
          .then([{ ...rotated, data: { ...rotated.data, previous_valid_until: '2025-03-01T08:59:59.990Z' } }]);
      });

      test('an overlap of 30 days is the longest', () => {
        given([created])
          .when(rotate({ previous_valid_until: '2025-03-31T09:00:00.000Z' }))
          .thenEvents();
        given([created])
          .when(rotate({ previous_valid_until: '2025-03-31T09:00:00.001Z' }))
          .thenThrows('INVALID_WEBHOOK_SUBSCRIPTION', { details: { field: 'previous_valid_until' } });
      });

      test('previous_valid_until must be an instant', () => {
        given([created])
          .when(rotate({ previous_valid_until: 'tomorrow' }))
          .thenThrows('INVALID_WEBHOOK_SUBSCRIPTION', { details: { field: 'previous_valid_until' } });
      });

      test('a secret used before is refused (the current one, or an older one)', () => {
        given([created])
          .when(rotate({ secret_id: secretId }))
          .thenThrows('WEBHOOK_SECRET_ALREADY_USED', { kind: 'conflict', message: /already the current one/ });
        const third = idFromKey('webhook_secret', 'spec-3');
        const rotatedAgain: WebhookSecretRotated = {
          ...rotated,
          data: { ...rotated.data, secret_id: third, previous_secret_id: nextSecretId },
        };
        given([created, rotated, rotatedAgain])
          .when(rotate({ secret_id: secretId }))
          .thenThrows('WEBHOOK_SECRET_ALREADY_USED', { message: /was used before/ });
      });

      test('a student may not', () => {
        given([created]).when(rotate({}, student)).thenThrows('ADMIN_ROLE_REQUIRED');
      });
    });

    test('DeleteWebhookSubscription deletes it', () => {
      given([created]).when(remove()).then([deleted]);
    });

    test('a student may not delete it', () => {
      given([created]).when(remove(student)).thenThrows('ADMIN_ROLE_REQUIRED');
    });
  });

  describe('when disabled', () => {
    test('EnableWebhookSubscription enables it again; the reason is cleared', () => {
      given([created, disabled]).when(enable()).then([enabled]);
      expect(stateAfter(webhookSubscriptionDecider, [created, disabled, enabled])).toMatchObject({
        status: 'enabled',
        disabled_reason: null,
      });
    });

    test('DisableWebhookSubscription is refused: already disabled (a second 410 changes nothing)', () => {
      given([created, disabled])
        .when(disable(system))
        .thenThrows('WEBHOOK_SUBSCRIPTION_ALREADY_DISABLED', {
          kind: 'conflict',
          details: { reason: 'partner asked' },
        });
    });

    test('it may still be updated, rotated and deleted', () => {
      given([created, disabled])
        .when(update({ ordered: true }))
        .then([updated({ ordered: true })]);
      given([created, disabled]).when(rotate()).then([rotated]);
      given([created, disabled]).when(remove()).then([deleted]);
    });
  });

  describe('when deleted', () => {
    test.each<[string, IdentityCommandOfWebhook]>([
      ['UpdateWebhookSubscription', update({ ordered: true })],
      ['EnableWebhookSubscription', enable()],
      ['DisableWebhookSubscription', disable()],
      ['RotateWebhookSecret', rotate()],
      ['DeleteWebhookSubscription', remove()],
    ])('%s is refused: not found (it was deleted)', (_name, command) => {
      given([created, deleted])
        .when(command)
        .thenThrows('WEBHOOK_SUBSCRIPTION_NOT_FOUND', { kind: 'not_found', details: { deleted: true } });
    });

    test('its id is never reused', () => {
      given([created, deleted])
        .when(create())
        .thenThrows('WEBHOOK_SUBSCRIPTION_ALREADY_EXISTS', { message: /was deleted/ });
    });
  });
});

type IdentityCommandOfWebhook = Parameters<typeof webhookSubscriptionDecider.decide>[0];

describe('The identity context: users and webhook subscriptions', () => {
  const identity = DeciderSpecification.for(identityDecider);
  const adaId = userIdForEmail('ada@example.com');
  const registered: UserRegistered = {
    type: 'UserRegistered',
    data: { user_id: adaId, email: 'ada@example.com', role: 'student', profile: null, registered_at: now },
  };

  test('each command is keyed by its aggregate, and typed by it', () => {
    const command: IdentityCommand = create();
    expect(identityAggregateIdOf(command)).toBe(subscriptionId);
    expect(identityAggregateTypeOf(command)).toBe('webhook_subscription');
    expect(identityAggregateTypeOf(rotated)).toBe('webhook_subscription');
    expect(identityAggregateTypeOf(registered)).toBe('user');
    const disableUser: IdentityCommand = {
      type: 'DisableUser',
      data: { user_id: adaId },
      metadata: meta(admin),
    };
    expect(identityAggregateIdOf(disableUser)).toBe(adaId);
    expect(identityAggregateTypeOf(disableUser)).toBe('user');
  });

  test('a webhook command decides on the subscription’s sub-state', () => {
    identity([]).when(create()).then([created]);
    identity([created]).when(disable()).then([disabled]);
  });

  test('a user’s stream cannot take a webhook command, nor the reverse', () => {
    identity([registered])
      .when({ ...create(), data: { ...create().data, subscription_id: adaId } })
      .thenThrows('INVALID_COMMAND', { message: /id of a user/ });
    identity([created as IdentityEvent])
      .when({ type: 'DisableUser', data: { user_id: subscriptionId }, metadata: meta(admin) })
      .thenThrows('INVALID_COMMAND', { message: /id of a webhook subscription/ });
  });

  test('a decider snapshot from before webhook subscriptions (a user state alone) still reads', () => {
    const legacy = { status: 'active', user_id: adaId, email: 'ada@example.com', role: 'student' } as const;
    expect(identityStateOf(legacy)).toEqual({ user: legacy, webhook_subscription: { status: 'none' } });
    const state = identityDecider.evolve(legacy as never, {
      type: 'UserDisabled',
      data: { user_id: adaId, reason: null, disabled_at: now },
    });
    expect(state.user.status).toBe('disabled');
    expect(
      identityDecider.decide({ type: 'DisableUser', data: { user_id: adaId }, metadata: meta(admin) }, legacy as never),
    ).toEqual([{ type: 'UserDisabled', data: { user_id: adaId, reason: null, disabled_at: now } }]);
    expect(identityDecider.decide(create(), initialIdentityState())).toEqual([created]);
  });
});
