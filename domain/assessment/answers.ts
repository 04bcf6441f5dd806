import { domainError } from '../shared/errors';
import type { JsonValue } from '../shared/json';
import { isJsonValue, isPlainObject } from '../shared/json';
import { describe } from '../shared/validation';
import type { QuestionSnapshot } from './assessment';
import type { ChoiceRubric, EssayRubric, ProfileRubric } from './rubric';
import { countWords } from './textMatch';

/**
 * Answer shapes, by question type:
 *
 * - multiple_choice, `select: "single"`: a choice text (`"docker"`) or its 0-based index (`1`);
 * - multiple_choice, `select: "multiple"`: `{"selected": ["docker", "kubernetes"]}` (texts or
 *   indexes, at least one, no repeats);
 * - profile: a JSON object; fields named by `required` rules must be present and non-empty,
 *   and fields read by other rules must have the type the rule reads;
 * - essay: a non-empty string, within the rubric's `min_words` / `max_words` when given.
 *
 * Every check throws `INVALID_ANSWER` naming the question.
 */

/** Longest answer accepted, as JSON text: keeps events well under Kafka's message size. */
export const MAX_ANSWER_JSON_LENGTH = 50_000;

export function checkAnswer(question: QuestionSnapshot, answer: unknown): asserts answer is JsonValue {
  if (answer === undefined || answer === null) invalid(question, 'an answer is required');
  if (!isJsonValue(answer)) invalid(question, 'the answer must be plain JSON');
  if (JSON.stringify(answer).length > MAX_ANSWER_JSON_LENGTH) {
    invalid(question, `the answer is longer than ${MAX_ANSWER_JSON_LENGTH} characters`);
  }
  switch (question.type) {
    case 'multiple_choice':
      selectedChoices(question, answer);
      return;
    case 'profile':
      checkProfileAnswer(question, answer);
      return;
    case 'essay':
      checkEssayAnswer(question, answer);
      return;
    default: {
      const _unhandled: never = question.type;
      invalid(question, `questions of type ${String(_unhandled)} cannot be answered`);
    }
  }
}

/**
 * The option texts a multiple_choice answer selects, in the order given. Throws
 * `INVALID_ANSWER` when the answer does not have the shape the rubric's `select` requires.
 */
export function selectedChoices(question: QuestionSnapshot, answer: unknown): string[] {
  const rubric = question.rubric as ChoiceRubric;
  const choices = question.choices ?? [];
  const options = `${choices.map((c, i) => `${i}: ${c}`).join(', ')}`;
  const resolve = (value: unknown): string => {
    if (typeof value === 'string' && choices.includes(value)) return value;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < choices.length) {
      return choices[value]!;
    }
    return invalid(question, `${describe(value)} is not one of the choices (${options})`);
  };
  if (rubric.select === 'single') {
    if (typeof answer !== 'string' && typeof answer !== 'number') {
      invalid(question, `pick one option: send its text or its 0-based index (${options})`);
    }
    return [resolve(answer)];
  }
  if (!isPlainObject(answer) || !Array.isArray(answer.selected) || Object.keys(answer).length !== 1) {
    return invalid(question, `send {"selected": [...]} with the texts or 0-based indexes of the options (${options})`);
  }
  if (answer.selected.length === 0) invalid(question, 'select at least one option');
  const picked = answer.selected.map(resolve);
  const repeated = picked.find((c, i) => picked.indexOf(c) !== i);
  if (repeated !== undefined) invalid(question, `option "${repeated}" is selected more than once`);
  return picked;
}

/** The value at a dotted path of a profile answer, or undefined. */
export function fieldValue(answer: unknown, path: string): unknown {
  let current: unknown = answer;
  for (const segment of path.split('.')) {
    if (!isPlainObject(current)) return undefined;
    current = current[segment.trim()];
  }
  return current;
}

/** Present = not missing or null, and not an empty string, list or object. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim().length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Skill names from a skills field: a list of strings or of {skill}/{name} objects, or one string. */
export function skillItems(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return undefined;
  const items: string[] = [];
  for (const item of value) {
    if (typeof item === 'string') items.push(item);
    else if (isPlainObject(item) && typeof item.skill === 'string') items.push(item.skill);
    else if (isPlainObject(item) && typeof item.name === 'string') items.push(item.name);
    else return undefined;
  }
  return items;
}

/** Free text from a keywords field: a string, or a list of strings joined by newlines. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  return undefined;
}

/** A number from a range field: a finite number or a numeric string such as "4.5". */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/u.test(value)) return Number(value);
  return undefined;
}

function checkProfileAnswer(question: QuestionSnapshot, answer: JsonValue): void {
  if (!isPlainObject(answer)) {
    invalid(
      question,
      'a profile answer must be a JSON object of fields, e.g. {"skills": [...], "years_experience": 3}',
    );
  }
  const rubric = question.rubric as ProfileRubric;
  const missing: string[] = [];
  for (const rule of rubric.rules) {
    if (rule.type === 'required') {
      for (const field of rule.fields) {
        if (!isPresent(fieldValue(answer, field)) && !missing.includes(field)) missing.push(field);
      }
    }
  }
  if (missing.length > 0) {
    invalid(question, `required field${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`, {
      missing_fields: missing,
    });
  }
  for (const rule of rubric.rules) {
    if (rule.type === 'required') continue;
    const value = fieldValue(answer, rule.field);
    if (value === undefined || value === null) continue;
    if (rule.type === 'skills' && skillItems(value) === undefined) {
      invalid(question, `field "${rule.field}" must be a list of skills (strings) or a string`, { field: rule.field });
    }
    if (rule.type === 'keywords' && textOf(value) === undefined) {
      invalid(question, `field "${rule.field}" must be text (a string or a list of strings)`, { field: rule.field });
    }
    if (rule.type === 'range' && numberOf(value) === undefined) {
      invalid(question, `field "${rule.field}" must be a number, got ${describe(value)}`, { field: rule.field });
    }
  }
}

function checkEssayAnswer(question: QuestionSnapshot, answer: JsonValue): void {
  if (typeof answer !== 'string' || answer.trim().length === 0) {
    invalid(question, 'an essay answer must be non-empty text');
  }
  const rubric = question.rubric as EssayRubric;
  const words = countWords(answer);
  if (rubric.min_words !== undefined && words < rubric.min_words) {
    invalid(question, `the essay has ${words} words; write at least ${rubric.min_words}`, { words });
  }
  if (rubric.max_words !== undefined && words > rubric.max_words) {
    invalid(question, `the essay has ${words} words; keep it to at most ${rubric.max_words}`, { words });
  }
}

function invalid(question: QuestionSnapshot, problem: string, details: Record<string, unknown> = {}): never {
  throw domainError('INVALID_ANSWER', `Answer to question ${question.question_id} is invalid: ${problem}.`, {
    question_id: question.question_id,
    ...details,
  });
}
