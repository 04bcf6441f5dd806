import type { Event } from '../shared/decider';

/** A role track (e.g. "Cloud engineer") with the skills it calls for. */
export const roleAggregateType = 'role';

export interface SkillRequirement {
  skill: string;
  /** Expected proficiency, 1 (awareness) to 5 (expert). */
  level?: number;
  /** Relative importance within the role. Default 1. */
  weight?: number;
}

export interface RoleDefinition {
  name: string;
  description: string;
  skills_profile: SkillRequirement[];
}

export type RoleCreated = Event<'RoleCreated', { role_id: string } & RoleDefinition>;
/** Carries the full definition after the revision. */
export type RoleRevised = Event<'RoleRevised', { role_id: string } & RoleDefinition>;
export type RoleRetired = Event<'RoleRetired', { role_id: string; reason: string | null }>;

export type RoleEvent = RoleCreated | RoleRevised | RoleRetired;

const eventTypeSet: Record<RoleEvent['type'], true> = { RoleCreated: true, RoleRevised: true, RoleRetired: true };
export const roleEventTypes = Object.keys(eventTypeSet) as RoleEvent['type'][];

export type RoleState =
  { status: 'none' } | ({ status: 'active' | 'retired'; role_id: string; revisions: number } & RoleDefinition);

export const initialRoleState = (): RoleState => ({ status: 'none' });

export function evolveRole(state: RoleState, event: RoleEvent): RoleState {
  switch (event.type) {
    case 'RoleCreated': {
      if (state.status !== 'none') return state;
      const { role_id, name, description, skills_profile } = event.data;
      return { status: 'active', role_id, name, description, skills_profile, revisions: 0 };
    }
    case 'RoleRevised': {
      if (state.status !== 'active') return state;
      const { name, description, skills_profile } = event.data;
      return { ...state, name, description, skills_profile, revisions: state.revisions + 1 };
    }
    case 'RoleRetired':
      if (state.status !== 'active') return state;
      return { ...state, status: 'retired' };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}
