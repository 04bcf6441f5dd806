import type { Event } from '../shared/decider';
import type { JsonObject } from '../shared/json';

/** A micro-credential that can be recommended. */
export const credentialAggregateType = 'credential';

export interface CredentialDefinition {
  title: string;
  description: string;
  skills: string[];
  provider: string | null;
  metadata: JsonObject | null;
}

export type CredentialCreated = Event<'CredentialCreated', { credential_id: string } & CredentialDefinition>;
/** Carries the full definition after the revision. */
export type CredentialRevised = Event<'CredentialRevised', { credential_id: string } & CredentialDefinition>;
export type CredentialRetired = Event<'CredentialRetired', { credential_id: string; reason: string | null }>;

export type CredentialEvent = CredentialCreated | CredentialRevised | CredentialRetired;

const eventTypeSet: Record<CredentialEvent['type'], true> = {
  CredentialCreated: true,
  CredentialRevised: true,
  CredentialRetired: true,
};
export const credentialEventTypes = Object.keys(eventTypeSet) as CredentialEvent['type'][];

export type CredentialState =
  | { status: 'none' }
  | ({ status: 'active' | 'retired'; credential_id: string; revisions: number } & CredentialDefinition);

export const initialCredentialState = (): CredentialState => ({ status: 'none' });

export function evolveCredential(state: CredentialState, event: CredentialEvent): CredentialState {
  switch (event.type) {
    case 'CredentialCreated': {
      if (state.status !== 'none') return state;
      const { credential_id, ...definition } = event.data;
      return { status: 'active', credential_id, ...definition, revisions: 0 };
    }
    case 'CredentialRevised': {
      if (state.status !== 'active') return state;
      const { credential_id: _id, ...definition } = event.data;
      return { ...state, ...definition, revisions: state.revisions + 1 };
    }
    case 'CredentialRetired':
      if (state.status !== 'active') return state;
      return { ...state, status: 'retired' };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}
