import type { Actor, Command, Decider } from '../shared/decider';
import { domainError } from '../shared/errors';
import { normaliseEmail, userIdForEmail } from '../shared/ids';
import type { JsonObject } from '../shared/json';
import {
  describe,
  optionalJsonObject,
  optionalText,
  requireAdmin,
  requireInstant,
  requireUuid,
} from '../shared/validation';
import type { UserEvent, UserRole, UserState } from './user';
import { aggregateType, evolve, initialState, userRoles } from './user';

export type RegisterUser = Command<
  'RegisterUser',
  {
    /** Must equal `userIdForEmail(email)`. */
    user_id: string;
    email: string;
    role: UserRole;
    profile?: JsonObject | null;
  }
>;

export type DisableUser = Command<
  'DisableUser',
  {
    user_id: string;
    reason?: string | null;
  }
>;

export type UserCommand = RegisterUser | DisableUser;

const commandTypeSet: Record<UserCommand['type'], true> = { RegisterUser: true, DisableUser: true };
export const userCommandTypes = Object.keys(commandTypeSet) as UserCommand['type'][];

export function aggregateIdOf(command: UserCommand): string {
  return command.data.user_id;
}

const MAX_EMAIL_LENGTH = 254;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

/**
 * Who may give a new user which role:
 * - student: the new user themselves (actor id = user id), an admin, or the system;
 * - advisor: an admin;
 * - admin: an admin, or the system (to bootstrap the first admin).
 */
export function mayAssignRole(actor: Actor, role: UserRole, userId: string): boolean {
  switch (role) {
    case 'student':
      return actor.id === userId || actor.role === 'admin' || actor.role === 'system';
    case 'advisor':
      return actor.role === 'admin';
    case 'admin':
      return actor.role === 'admin' || actor.role === 'system';
  }
}

export function registerUser(command: RegisterUser, state: UserState): UserEvent[] {
  const { data, metadata } = command;
  const userId = requireUuid(data.user_id, 'user_id');
  if (typeof data.email !== 'string') {
    throw domainError('INVALID_EMAIL', `email must be a string, got ${describe(data.email)}.`);
  }
  const email = normaliseEmail(data.email);
  if (email.length > MAX_EMAIL_LENGTH || !emailPattern.test(email)) {
    throw domainError(
      'INVALID_EMAIL',
      `"${data.email.trim()}" is not a valid email address (expected name@domain.tld).`,
    );
  }
  if (userId !== userIdForEmail(email)) {
    throw domainError(
      'USER_ID_MISMATCH',
      `user_id ${userId} does not belong to ${email}: derive it with userIdForEmail(email) so each email has one account.`,
      { expected_user_id: userIdForEmail(email) },
    );
  }
  if (!(userRoles as readonly unknown[]).includes(data.role)) {
    throw domainError('INVALID_USER_ROLE', `role must be one of ${userRoles.join(', ')}, got ${describe(data.role)}.`);
  }
  const role = data.role;
  const profile = optionalJsonObject(data.profile, 'profile');
  const registeredAt = requireInstant(metadata.now, 'metadata.now');

  if (!mayAssignRole(metadata.actor, role, userId)) {
    throw domainError(
      'FORBIDDEN_ROLE_ASSIGNMENT',
      role === 'student'
        ? 'A student account can only be registered by its owner or by an admin.'
        : `Only an admin can create ${role === 'advisor' ? 'an advisor' : 'an admin'} account.`,
      { role, actor_role: metadata.actor.role },
    );
  }
  if (state.status !== 'unregistered') {
    throw domainError('EMAIL_ALREADY_REGISTERED', `An account for ${email} already exists; sign in instead.`);
  }
  return [{ type: 'UserRegistered', data: { user_id: userId, email, role, profile, registered_at: registeredAt } }];
}

export function disableUser(command: DisableUser, state: UserState): UserEvent[] {
  const { data, metadata } = command;
  requireAdmin(metadata.actor, 'disable a user');
  const userId = requireUuid(data.user_id, 'user_id');
  const reason = optionalText(data.reason, 'reason', { maxLength: 1000 });
  const disabledAt = requireInstant(metadata.now, 'metadata.now');
  if (state.status === 'unregistered') throw domainError('USER_NOT_FOUND', `No user with id ${userId}.`);
  if (state.status === 'disabled') throw domainError('USER_ALREADY_DISABLED', `User ${userId} is already disabled.`);
  return [{ type: 'UserDisabled', data: { user_id: userId, reason, disabled_at: disabledAt } }];
}

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return registerUser(command, state);
    case 'DisableUser':
      return disableUser(command, state);
    default: {
      const unknown: never = command;
      throw domainError(
        'INVALID_COMMAND',
        `Unknown identity command ${describe((unknown as { type: unknown }).type)}.`,
      );
    }
  }
}

export const userDecider: Decider<UserCommand, UserEvent, UserState> = { initialState, evolve, decide };

export function aggregateTypeOf(_command: UserCommand | UserEvent): typeof aggregateType {
  return aggregateType;
}
