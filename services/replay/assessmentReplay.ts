import { assessmentDecider, type AssessmentEvent, type AssessmentState } from '../../domain/assessment';
import type { EventLog, LoggedEvent } from './eventLog';

export interface AssessmentAt {
  /** The assessment's events that occurred at or before the instant, oldest first. */
  events: LoggedEvent[];
  /** Its state then, folded from those events by the domain's own `evolve`. */
  state: AssessmentState;
}

/** Folds events with the assessment decider's `evolve`, from its initial state. */
export function foldAssessment(events: readonly Pick<LoggedEvent, 'type' | 'data'>[]): AssessmentState {
  return events.reduce(
    (state, e) => assessmentDecider.evolve(state, { type: e.type, data: e.data } as AssessmentEvent),
    assessmentDecider.initialState(),
  );
}

/**
 * One assessment as it was at `asOf` (now when omitted), recomputed from the event log, not from
 * the read model. Reads the whole partition its id maps to, from the start: the cost grows with
 * the partition, not with the assessment (a snapshot or an index by aggregate would bound it).
 */
export async function assessmentAt(log: EventLog, assessmentId: string, asOf?: Date): Promise<AssessmentAt> {
  const limit = asOf?.getTime() ?? Number.POSITIVE_INFINITY;
  const events: LoggedEvent[] = [];
  for await (const event of log.aggregate('assessment', assessmentId)) {
    if (Date.parse(event.occurred_at) <= limit) events.push(event);
  }
  events.sort((a, b) => a.version - b.version);
  return { events, state: foldAssessment(events) };
}
