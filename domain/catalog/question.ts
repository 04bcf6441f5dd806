import type { QuestionDefinition } from '../assessment/questionDefinition';
import type { Event } from '../shared/decider';

/**
 * A catalog question. Questions are versioned: creation is version "1" and every revision is
 * a new version ("2", "3", …) whose event carries the complete new definition. Assessments
 * snapshot the version they were started with, so revising never changes a running assessment.
 */
export const questionAggregateType = 'question';

export type QuestionVersionData = { question_id: string; role_id: string; version: string } & QuestionDefinition;

export type QuestionCreated = Event<'QuestionCreated', QuestionVersionData>;
export type QuestionRevised = Event<'QuestionRevised', QuestionVersionData>;
export type QuestionRetired = Event<'QuestionRetired', { question_id: string; version: string; reason: string | null }>;

/** A human-scored answer to an essay question: calibration data for the offline scorer. */
export interface ScoredExample {
  text: string;
  /** On the question's scale, 0 to its weight. */
  score: number;
}

/**
 * An admin imported human-scored examples for an essay question. They do not change the
 * question (no new version): they teach the offline scorer how this question is marked.
 */
export type ScoredExamplesImported = Event<
  'ScoredExamplesImported',
  { question_id: string; question_version: string; import_id: string; examples: ScoredExample[]; imported_at: string }
>;

export type QuestionEvent = QuestionCreated | QuestionRevised | QuestionRetired | ScoredExamplesImported;

const eventTypeSet: Record<QuestionEvent['type'], true> = {
  QuestionCreated: true,
  QuestionRevised: true,
  QuestionRetired: true,
  ScoredExamplesImported: true,
};
export const questionEventTypes = Object.keys(eventTypeSet) as QuestionEvent['type'][];

export type QuestionState = { status: 'none' } | ({ status: 'active' | 'retired' } & QuestionVersionData);

export const initialQuestionState = (): QuestionState => ({ status: 'none' });

export function evolveQuestion(state: QuestionState, event: QuestionEvent): QuestionState {
  switch (event.type) {
    case 'QuestionCreated':
      if (state.status !== 'none') return state;
      return { status: 'active', ...event.data };
    case 'QuestionRevised':
      if (state.status !== 'active') return state;
      return { status: 'active', ...event.data };
    case 'QuestionRetired':
      if (state.status !== 'active') return state;
      return { ...state, status: 'retired' };
    case 'ScoredExamplesImported':
      return state;
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}
