import type { DomainErrorCode } from '../shared/errors';
import { domainError } from '../shared/errors';
import { describe } from '../shared/validation';
import type { QuestionType, Rubric } from './rubric';
import { parseRubric, questionTypes } from './rubric';

/**
 * What a question is, independent of where it lives (catalog question versions and the
 * assessment's question snapshots share these rules).
 */
export interface QuestionDefinition {
  question_type: QuestionType;
  prompt: string;
  /** The options of a multiple_choice question; null for essay and profile questions. */
  choices: string[] | null;
  rubric: Rubric;
  /** Points the question is worth; rule scores are a fraction of it. 0 < weight <= 999.99. */
  weight: number;
  required: boolean;
}

export const MAX_PROMPT_LENGTH = 10_000;
export const MAX_WEIGHT = 999.99;

export interface DefinitionErrorCodes {
  /** Code for a problem with the question itself. */
  question: DomainErrorCode;
  /** Code for a problem with its rubric. */
  rubric: DomainErrorCode;
}

/** Checks a question definition and returns it normalised (prompt and choices trimmed). */
export function validateQuestionDefinition(
  input: Record<keyof QuestionDefinition, unknown>,
  codes: DefinitionErrorCodes,
  label = 'The question',
): QuestionDefinition {
  const fail = (message: string, field: string): never => {
    throw domainError(codes.question, `${label}: ${message}`, { field });
  };
  const type = input.question_type;
  if (typeof type !== 'string' || !(questionTypes as readonly string[]).includes(type)) {
    return fail(`question_type must be one of ${questionTypes.join(', ')} (got ${describe(type)}).`, 'question_type');
  }
  const questionType = type as QuestionType;
  if (typeof input.prompt !== 'string' || input.prompt.trim().length === 0) {
    return fail('prompt must be a non-empty string.', 'prompt');
  }
  const prompt = input.prompt.trim();
  if (prompt.length > MAX_PROMPT_LENGTH) {
    return fail(`prompt must be at most ${MAX_PROMPT_LENGTH} characters.`, 'prompt');
  }

  let choices: string[] | null = null;
  if (questionType === 'multiple_choice') {
    const raw = input.choices;
    if (!Array.isArray(raw) || raw.length < 2) {
      return fail('a multiple_choice question needs choices: a list of at least 2 options.', 'choices');
    }
    if (!raw.every((c): c is string => typeof c === 'string' && c.trim().length > 0)) {
      return fail('every choice must be a non-empty string.', 'choices');
    }
    choices = raw.map((c) => c.trim());
    const duplicate = choices.find((c, i) => choices!.indexOf(c) !== i);
    if (duplicate !== undefined) return fail(`choice "${duplicate}" is listed twice.`, 'choices');
  } else if (input.choices !== null && input.choices !== undefined) {
    return fail(`choices must be null for a ${questionType} question.`, 'choices');
  }

  const weight = input.weight;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > MAX_WEIGHT) {
    return fail(`weight must be a number above 0 and at most ${MAX_WEIGHT} (got ${describe(weight)}).`, 'weight');
  }
  if (typeof input.required !== 'boolean') return fail('required must be true or false.', 'required');

  const rubric = parseRubric(input.rubric, questionType, choices, codes.rubric, `${label}'s rubric`);
  return { question_type: questionType, prompt, choices, rubric, weight, required: input.required };
}
