import type { Event } from '../shared/decider';
import type { JsonObject } from '../shared/json';

/**
 * The User aggregate. Its id is `userIdForEmail(email)` (a UUIDv5 of the normalised email),
 * so registering an email twice lands on the same stream and the single writer refuses the
 * second registration. No secret (password hash, token) ever goes into these events.
 */
export const aggregateType = 'user';

export type UserRole = 'student' | 'advisor' | 'admin';
export const userRoles: readonly UserRole[] = ['student', 'advisor', 'admin'];

export type UserRegistered = Event<
  'UserRegistered',
  {
    user_id: string;
    /** Normalised (trimmed, lowercased). */
    email: string;
    role: UserRole;
    profile: JsonObject | null;
    registered_at: string;
  }
>;

export type UserDisabled = Event<
  'UserDisabled',
  {
    user_id: string;
    reason: string | null;
    disabled_at: string;
  }
>;

export type UserEvent = UserRegistered | UserDisabled;

const eventTypeSet: Record<UserEvent['type'], true> = { UserRegistered: true, UserDisabled: true };
export const userEventTypes = Object.keys(eventTypeSet) as UserEvent['type'][];

export interface UnknownUser {
  status: 'unregistered';
}

export interface RegisteredUser {
  status: 'active' | 'disabled';
  user_id: string;
  email: string;
  role: UserRole;
}

export type UserState = UnknownUser | RegisteredUser;

export const initialState = (): UserState => ({ status: 'unregistered' });

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'UserRegistered':
      if (state.status !== 'unregistered') return state;
      return { status: 'active', user_id: event.data.user_id, email: event.data.email, role: event.data.role };
    case 'UserDisabled':
      if (state.status !== 'active') return state;
      return { ...state, status: 'disabled' };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}
