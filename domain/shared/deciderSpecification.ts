import type { Decider } from './decider';
import type { DomainErrorCode, DomainErrorKind } from './errors';
import { DomainError } from './errors';

/**
 * Given / when / then for deciders, for unit specs:
 *
 *   const given = DeciderSpecification.for(assessmentDecider);
 *   given([started]).when(recordResponses).then([recorded, scored]);
 *   given([]).when(recordResponses).thenThrows('ASSESSMENT_NOT_FOUND');
 *
 * The state and the command are deep-frozen before `decide` runs, so a decider that mutates
 * its input fails the spec.
 */
export interface ThrownCheck {
  kind?: DomainErrorKind;
  details?: Record<string, unknown>;
  message?: string | RegExp;
}

export const DeciderSpecification = {
  for<C, E, S>(decider: Decider<C, E, S>) {
    return (givenEvents: E[]) => ({
      when: (command: C) => {
        const run = (): E[] => {
          const state = givenEvents.reduce(decider.evolve, decider.initialState());
          return decider.decide(deepFreeze(structuredClone(command)), deepFreeze(state));
        };
        return {
          then: (expected: E[]): E[] => {
            const actual = run();
            expect(actual).toEqual(expected);
            return actual;
          },
          /** Runs the command and hands back the events for custom assertions. */
          thenEvents: (): E[] => run(),
          thenThrows: (code: DomainErrorCode, check: ThrownCheck = {}): DomainError => {
            let thrown: unknown;
            try {
              const events = run();
              throw new Error(`Expected ${code} but decide returned ${JSON.stringify(events)}`);
            } catch (error) {
              thrown = error;
            }
            if (!(thrown instanceof DomainError)) throw thrown;
            expect(thrown.code).toBe(code);
            if (check.kind !== undefined) expect(thrown.kind).toBe(check.kind);
            if (check.details !== undefined) expect(thrown.details).toMatchObject(check.details);
            if (check.message !== undefined) expect(thrown.message).toMatch(check.message);
            return thrown;
          },
        };
      },
    });
  },
};

/** Folds events into a state with a decider, for specs that inspect state. */
export function stateAfter<C, E, S>(decider: Decider<C, E, S>, events: E[]): S {
  return events.reduce(decider.evolve, decider.initialState());
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
