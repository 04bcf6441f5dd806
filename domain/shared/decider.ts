/**
 * The shape of every aggregate in microcred (Emmett's decider pattern).
 *
 * - `initialState()` is the state of a stream with no events.
 * - `evolve(state, event)` folds one event into the state; it never throws and returns the
 *   state unchanged for events it does not care about.
 * - `decide(command, state)` is pure: it returns the events the command produces, or throws a
 *   `DomainError`. Time and ids arrive in the command (`metadata.now`, `data.*_id`); the domain
 *   never reads a clock or a random source.
 */
export interface Decider<C, E, S> {
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  decide: (command: C, state: S) => E[];
}

export type ActorRole = 'student' | 'advisor' | 'admin' | 'system';

/** Who issued a command. `system` is a trusted internal process (bootstrap, processors). */
export interface Actor {
  id: string;
  role: ActorRole;
}

export interface CommandMetadata {
  /** Unique per command; the runtime uses it to make retries idempotent. */
  command_id: string;
  /** The current instant as an ISO-8601 string, supplied by the caller (the domain has no clock). */
  now: string;
  actor: Actor;
}

/** A command as the domain sees it. The runtime adds correlation ids and the aggregate id. */
export interface Command<Type extends string, Data> {
  type: Type;
  data: Data;
  metadata: CommandMetadata;
}

/**
 * An event as `decide` produces it. The runtime wraps it in the envelope (event_id,
 * aggregate_id, aggregate_type, version, occurred_at, actor, correlation_id, causation_id).
 */
export interface Event<Type extends string, Data> {
  type: Type;
  data: Data;
}

/** Compile-time exhaustiveness check for discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
