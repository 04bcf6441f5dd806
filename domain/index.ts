import type { AssessmentCommand, AssessmentEvent, AssessmentState } from './assessment';
import * as assessment from './assessment';
import type { CatalogCommand, CatalogEvent, CatalogState } from './catalog';
import * as catalog from './catalog';
import type { IdentityCommand, IdentityEvent, IdentityState } from './identity';
import * as identity from './identity';
import type { CommandMetadata, Decider } from './shared/decider';

/**
 * The bounded contexts with a decider, described uniformly for the runtime (which consumes a
 * context's commands topic and writes its events topic) and for the schema catalogue.
 */
export interface BoundedContext<
  C extends { type: string; data: unknown; metadata: CommandMetadata },
  E extends { type: string; data: unknown },
  S,
> {
  name: 'identity' | 'catalog' | 'assessment';
  decider: Decider<C, E, S>;
  /** The stream (and Kafka key) a command belongs to. */
  aggregateIdOf: (command: C) => string;
  /** The envelope's aggregate_type for a command or the events it produces. */
  aggregateTypeOf: (message: C | E) => string;
  commandTypes: readonly C['type'][];
  eventTypes: readonly E['type'][];
}

export const identityContext: BoundedContext<IdentityCommand, IdentityEvent, IdentityState> = {
  name: 'identity',
  decider: identity.identityDecider,
  aggregateIdOf: identity.identityAggregateIdOf,
  aggregateTypeOf: identity.identityAggregateTypeOf,
  commandTypes: identity.identityCommandTypes,
  eventTypes: identity.identityEventTypes,
};

export const catalogContext: BoundedContext<CatalogCommand, CatalogEvent, CatalogState> = {
  name: 'catalog',
  decider: catalog.catalogDecider,
  aggregateIdOf: catalog.aggregateIdOf,
  aggregateTypeOf: catalog.aggregateTypeOf,
  commandTypes: catalog.catalogCommandTypes,
  eventTypes: catalog.catalogEventTypes,
};

export const assessmentContext: BoundedContext<AssessmentCommand, AssessmentEvent, AssessmentState> = {
  name: 'assessment',
  decider: assessment.assessmentDecider,
  aggregateIdOf: assessment.aggregateIdOf,
  aggregateTypeOf: assessment.aggregateTypeOf,
  commandTypes: assessment.assessmentCommandTypes,
  eventTypes: assessment.assessmentEventTypes,
};

export const boundedContexts = [identityContext, catalogContext, assessmentContext] as const;

/** Any one of the contexts, for code that handles them generically (the decider runtime). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyBoundedContext = BoundedContext<any, any, any>;

export { assessment, catalog, identity };
