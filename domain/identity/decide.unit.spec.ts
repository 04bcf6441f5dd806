import type { Actor, CommandMetadata } from '../shared/decider';
import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey, userIdForEmail } from '../shared/ids';
import type { DisableUser, RegisterUser } from './decide';
import { aggregateIdOf, aggregateTypeOf, userDecider } from './decide';
import type { UserDisabled, UserRegistered } from './user';

const given = DeciderSpecification.for(userDecider);

const now = '2025-03-01T09:00:00.000Z';
const adaId = userIdForEmail('ada@example.com');
const ada: Actor = { id: adaId, role: 'student' };
const admin: Actor = { id: userIdForEmail('root@example.com'), role: 'admin' };
const system: Actor = { id: 'system:bootstrap', role: 'system' };
const advisor: Actor = { id: userIdForEmail('grace@example.com'), role: 'advisor' };
const stranger: Actor = { id: userIdForEmail('bob@example.com'), role: 'student' };

const meta = (actor: Actor): CommandMetadata => ({ command_id: idFromKey('command', 'identity-spec'), now, actor });

const register = (data: Partial<RegisterUser['data']> = {}, actor: Actor = ada): RegisterUser => ({
  type: 'RegisterUser',
  data: { user_id: adaId, email: 'ada@example.com', role: 'student', profile: { name: 'Ada' }, ...data },
  metadata: meta(actor),
});

const disable = (actor: Actor = admin, reason: string | null = 'left the programme'): DisableUser => ({
  type: 'DisableUser',
  data: { user_id: adaId, reason },
  metadata: meta(actor),
});

const registered = (role: UserRegistered['data']['role'] = 'student'): UserRegistered => ({
  type: 'UserRegistered',
  data: { user_id: adaId, email: 'ada@example.com', role, profile: { name: 'Ada' }, registered_at: now },
});

const disabled: UserDisabled = {
  type: 'UserDisabled',
  data: { user_id: adaId, reason: 'left the programme', disabled_at: now },
};

describe('User decider', () => {
  test('commands are keyed by user id; the aggregate type is "user"', () => {
    expect(aggregateIdOf(register())).toBe(adaId);
    expect(aggregateIdOf(disable())).toBe(adaId);
    expect(aggregateTypeOf(register())).toBe('user');
  });

  describe('when unregistered', () => {
    describe('RegisterUser', () => {
      test('a student registers themselves', () => {
        given([]).when(register()).then([registered()]);
      });

      test('the email is stored normalised and the id must be derived from it', () => {
        given([])
          .when(register({ email: '  Ada@Example.COM ' }))
          .then([registered()]);
      });

      test('the profile is optional', () => {
        given([])
          .when(register({ profile: undefined }))
          .then([{ ...registered(), data: { ...registered().data, profile: null } }]);
      });

      test('the system or an admin may register a student', () => {
        given([]).when(register({}, system)).then([registered()]);
        given([]).when(register({}, admin)).then([registered()]);
      });

      test('an admin may create an advisor or an admin', () => {
        given([])
          .when(register({ role: 'advisor' }, admin))
          .then([registered('advisor')]);
        given([])
          .when(register({ role: 'admin' }, admin))
          .then([registered('admin')]);
      });

      test('the system may create the bootstrap admin', () => {
        given([])
          .when(register({ role: 'admin' }, system))
          .then([registered('admin')]);
      });

      test.each<[string, RegisterUser['data']['role'], Actor]>([
        ['a student cannot make themselves an advisor', 'advisor', ada],
        ['a student cannot make themselves an admin', 'admin', ada],
        ['the system cannot create an advisor', 'advisor', system],
        ['an advisor cannot create an advisor', 'advisor', advisor],
        ['an advisor cannot register a student', 'student', advisor],
        ['a student cannot register someone else', 'student', stranger],
      ])('%s', (_name, role, actor) => {
        given([]).when(register({ role }, actor)).thenThrows('FORBIDDEN_ROLE_ASSIGNMENT', { kind: 'forbidden' });
      });

      test.each(['ada', 'ada@', '@example.com', 'ada@example', 'ada @example.com', `${'a'.repeat(250)}@example.com`])(
        'an invalid email (%p) is refused',
        (email) => {
          given([])
            .when(register({ email, user_id: userIdForEmail(email) }))
            .thenThrows('INVALID_EMAIL', { kind: 'validation' });
        },
      );

      test('an email that is not a string is refused', () => {
        given([])
          .when(register({ email: 42 as never }))
          .thenThrows('INVALID_EMAIL');
      });

      test('a user id not derived from the email is refused', () => {
        given([])
          .when(register({ user_id: userIdForEmail('someone@example.com') }))
          .thenThrows('USER_ID_MISMATCH', { kind: 'validation', details: { expected_user_id: adaId } });
      });

      test('a user id that is not a UUID is refused', () => {
        given([])
          .when(register({ user_id: 'ada' }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'user_id' } });
      });

      test('an unknown role is refused', () => {
        given([])
          .when(register({ role: 'superuser' as never }, admin))
          .thenThrows('INVALID_USER_ROLE', { kind: 'validation' });
      });

      test('a profile that is not an object is refused', () => {
        given([])
          .when(register({ profile: ['Ada'] as never }))
          .thenThrows('INVALID_COMMAND', { details: { field: 'profile' } });
      });

      test('no secret can be passed through: extra fields are not recorded', () => {
        const command = register();
        (command.data as Record<string, unknown>).password = 'hunter2';
        const [event] = given([]).when(command).thenEvents();
        expect(JSON.stringify(event)).not.toContain('hunter2');
      });
    });

    describe('DisableUser', () => {
      test('is refused: there is no such user', () => {
        given([]).when(disable()).thenThrows('USER_NOT_FOUND', { kind: 'not_found' });
      });
    });
  });

  describe('when registered', () => {
    test('RegisterUser is refused: the email is taken', () => {
      given([registered()])
        .when(register({}, system))
        .thenThrows('EMAIL_ALREADY_REGISTERED', { kind: 'conflict', message: /ada@example.com/ });
    });

    test('an admin disables the user', () => {
      given([registered()]).when(disable()).then([disabled]);
    });

    test('the system may disable a user; the reason is optional', () => {
      given([registered()])
        .when(disable(system, null))
        .then([{ ...disabled, data: { ...disabled.data, reason: null } }]);
    });

    test('a reason over 1000 characters is refused', () => {
      given([registered()])
        .when(disable(admin, 'x'.repeat(1001)))
        .thenThrows('INVALID_COMMAND', { details: { field: 'reason' } });
    });

    test.each([
      ['the user themselves', ada],
      ['an advisor', advisor],
    ])('%s cannot disable the user', (_name, actor) => {
      given([registered()]).when(disable(actor)).thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden' });
    });
  });

  describe('when disabled', () => {
    test('DisableUser is refused: already disabled', () => {
      given([registered(), disabled]).when(disable()).thenThrows('USER_ALREADY_DISABLED', { kind: 'conflict' });
    });

    test('RegisterUser is still refused: the email stays taken', () => {
      given([registered(), disabled]).when(register()).thenThrows('EMAIL_ALREADY_REGISTERED');
    });
  });

  describe('evolve', () => {
    test('tracks registration and disabling', () => {
      expect(stateAfter(userDecider, [])).toEqual({ status: 'unregistered' });
      expect(stateAfter(userDecider, [registered('advisor')])).toEqual({
        status: 'active',
        user_id: adaId,
        email: 'ada@example.com',
        role: 'advisor',
      });
      expect(stateAfter(userDecider, [registered(), disabled])).toMatchObject({ status: 'disabled' });
    });

    test('ignores events that do not fit the state', () => {
      expect(stateAfter(userDecider, [disabled])).toEqual({ status: 'unregistered' });
      expect(stateAfter(userDecider, [registered(), registered('admin')])).toMatchObject({ role: 'student' });
    });
  });
});
