import type { Actor } from '../../domain/shared/decider';

/** Bounded contexts with a decider, each with a commands and an events topic. */
export type ContextName = 'identity' | 'catalog' | 'assessment';

/** A command on the wire (commands topic, keyed by aggregate id). */
export interface CommandEnvelope<Data = Record<string, unknown>> {
  command_id: string;
  type: string;
  aggregate_id: string;
  /** When the API accepted the request; becomes the domain's `now`. */
  issued_at: string;
  actor: Actor;
  correlation_id: string;
  data: Data;
}

/** An event on the wire (events topic, same partition as the commands that caused it). */
export interface EventEnvelope<Data = Record<string, unknown>> {
  event_id: string;
  aggregate_id: string;
  aggregate_type: string;
  version: number;
  type: string;
  occurred_at: string;
  actor: Actor;
  correlation_id: string;
  causation_id: string | null;
  data: Data;
}

/** Where a message sits in the log, and the schema it was written with. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
  schema_id: number;
}

/** An event as read back, with where it sits in the log. */
export type StoredEvent<Data = Record<string, unknown>> = EventEnvelope<Data> & Position;

/** A stored event narrowed to one of a domain's event types (discriminated by `type`). */
export type StoredOf<E extends { type: string; data: unknown }> = Omit<StoredEvent, 'type' | 'data'> & E;

export interface WrittenEvent {
  event_id: string;
  type: string;
  version: number;
  topic: string;
  partition: number;
  offset: number;
}

export interface ReplyError {
  code: string;
  kind: string;
  message: string;
  details: Record<string, unknown> | null;
}

/** The decider's answer, written in the same transaction as the events. */
export interface CommandReply {
  command_id: string;
  correlation_id: string;
  context: ContextName;
  command_type: string;
  aggregate_id: string;
  /** Who sent the command (the only non-staff caller allowed to read its status). */
  issued_by: Actor;
  outcome: 'accepted' | 'rejected' | 'duplicate';
  error: ReplyError | null;
  events: WrittenEvent[];
  decided_at: string;
}
