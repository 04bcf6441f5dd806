import type { DomainErrorCode } from '../shared/errors';
import { domainError } from '../shared/errors';
import { isPlainObject } from '../shared/json';

/**
 * Rubric formats (documented with examples in RUBRICS.md) and their validators.
 *
 * A rubric is stored as JSON on the question and copied into the assessment's question
 * snapshot. `scoring` says how it is used:
 * - `choice`  — multiple_choice questions, scored here by rules (ruleScoring.ts);
 * - `profile` — profile questions, scored here by rules (ruleScoring.ts);
 * - `essay`   — essay questions, scored later by the essay scorer (LLM or offline rubric scorer).
 *
 * Validators reject unknown keys: a typo such as `parital_credit` would otherwise silently
 * change how answers are scored.
 */

export type QuestionType = 'multiple_choice' | 'essay' | 'profile';
export const questionTypes: readonly QuestionType[] = ['multiple_choice', 'essay', 'profile'];

export interface ChoiceRubric {
  scoring: 'choice';
  /** `single`: the answer is one option; `multiple`: the answer is `{selected: [...]}`. */
  select: 'single' | 'multiple';
  /** The correct option texts (each one of the question's `choices`). */
  correct: string[];
  /** Credit per option, overriding the default (1 for a correct option, −wrong_penalty otherwise). */
  option_weights?: Record<string, number>;
  /** `multiple` only: credit per option picked rather than all-or-nothing. Default false. */
  partial_credit?: boolean;
  /** Credit taken off per wrong pick that has no option weight. Default 0. */
  wrong_penalty?: number;
  /** Floor of the score as a fraction of the question's weight, in [-1, 0]. Default 0. */
  min_score?: number;
  description?: string;
}

export interface Term {
  term: string;
  synonyms?: string[];
}

export interface ExpectedSkill {
  skill: string;
  synonyms?: string[];
  /** Relative weight of this skill in `proportional` matching. Default 1. */
  weight?: number;
}

interface RuleBase {
  id: string;
  /** Rubric points this rule is worth; a question's score is earned / total points × weight. */
  points: number;
  description?: string;
}

export interface SkillsRule extends RuleBase {
  type: 'skills';
  /** Answer field (dotted path) holding a list of skills or a free-text string. */
  field: string;
  expected: (string | ExpectedSkill)[];
  /** `proportional` (default): share of expected skills found; `any`: one is enough; `all`: every one. */
  match?: 'proportional' | 'any' | 'all';
}

export interface KeywordsRule extends RuleBase {
  type: 'keywords';
  /** Answer field (dotted path) holding free text (or a list of strings). */
  field: string;
  terms: (string | Term)[];
  /** Terms that must be found for full credit. Default 1. */
  min_matches?: number;
  /** Below `min_matches`, give matched / min_matches credit instead of none. Default false. */
  partial_credit?: boolean;
}

export interface RangeBand {
  /** Inclusive lower bound; omitted = no lower bound. */
  min?: number;
  /** Exclusive upper bound; omitted = no upper bound. */
  max?: number;
  /** Share of the rule's points earned in this band, 0–1. */
  credit: number;
  label?: string;
}

export interface RangeRule extends RuleBase {
  type: 'range';
  /** Answer field (dotted path) holding a number (or a numeric string). */
  field: string;
  bands: RangeBand[];
}

export interface RequiredRule extends RuleBase {
  type: 'required';
  /** Fields that must be present and non-empty; otherwise the answer is rejected. */
  fields: string[];
}

export type ProfileRule = SkillsRule | KeywordsRule | RangeRule | RequiredRule;

export interface ProfileRubric {
  scoring: 'profile';
  rules: ProfileRule[];
  description?: string;
}

export interface EssayBand {
  score: number;
  descriptor: string;
}

export interface EssayCriterion {
  id: string;
  description: string;
  weight: number;
  bands: EssayBand[];
}

export interface EssayRubric {
  scoring: 'essay';
  criteria: EssayCriterion[];
  min_words?: number;
  max_words?: number;
  description?: string;
}

export type Rubric = ChoiceRubric | ProfileRubric | EssayRubric;

export const scoringForQuestionType = {
  multiple_choice: 'choice',
  profile: 'profile',
  essay: 'essay',
} as const satisfies Record<QuestionType, Rubric['scoring']>;

/** Problems found in a rubric, each naming the offending path; empty when valid. */
export function rubricProblems(rubric: unknown, questionType: QuestionType, choices: string[] | null): string[] {
  const p = new Problems();
  if (!isPlainObject(rubric)) {
    p.add('rubric', 'must be a JSON object');
    return p.list;
  }
  const expected = scoringForQuestionType[questionType];
  if (rubric.scoring !== expected) {
    p.add(
      'rubric.scoring',
      `must be "${expected}" for ${questionType === 'essay' ? 'an' : 'a'} ${questionType} question (got ${show(rubric.scoring)})`,
    );
    return p.list;
  }
  if (expected === 'choice') checkChoiceRubric(rubric, choices ?? [], p);
  else if (expected === 'profile') checkProfileRubric(rubric, p);
  else checkEssayRubric(rubric, p);
  return p.list;
}

/**
 * Validates `rubric` for a question of `questionType` with `choices` and returns it typed.
 * Throws a validation error (default code `INVALID_RUBRIC`) listing every problem.
 */
export function parseRubric(
  rubric: unknown,
  questionType: QuestionType,
  choices: string[] | null,
  code: DomainErrorCode = 'INVALID_RUBRIC',
  context = 'The rubric',
): Rubric {
  const problems = rubricProblems(rubric, questionType, choices);
  if (problems.length > 0) {
    throw domainError(code, `${context} is invalid: ${problems.join('; ')}.`, { problems });
  }
  return rubric as unknown as Rubric;
}

// ---------------------------------------------------------------------------------------------
// Normalised views used by the scorer (defaults applied).

export function termOf(entry: string | Term): Term {
  return typeof entry === 'string' ? { term: entry } : entry;
}

export function skillOf(entry: string | ExpectedSkill): ExpectedSkill {
  return typeof entry === 'string' ? { skill: entry } : entry;
}

// ---------------------------------------------------------------------------------------------
// Validators

class Problems {
  readonly list: string[] = [];
  add(path: string, problem: string): void {
    this.list.push(`${path} ${problem}`);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, p: Problems): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) p.add(`${path}.${key}`, `is not a known key (allowed: ${allowed.join(', ')})`);
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function checkDescription(obj: Record<string, unknown>, path: string, p: Problems): void {
  if (obj.description !== undefined && typeof obj.description !== 'string')
    p.add(`${path}.description`, 'must be a string');
}

function checkChoiceRubric(r: Record<string, unknown>, choices: string[], p: Problems): void {
  const path = 'rubric';
  checkKeys(
    r,
    ['scoring', 'select', 'correct', 'option_weights', 'partial_credit', 'wrong_penalty', 'min_score', 'description'],
    path,
    p,
  );
  checkDescription(r, path, p);
  if (r.select !== 'single' && r.select !== 'multiple') {
    p.add(`${path}.select`, `must be "single" or "multiple" (got ${show(r.select)})`);
  }
  const known = new Set(choices);
  const correct: string[] = [];
  if (!Array.isArray(r.correct) || r.correct.length === 0) {
    p.add(`${path}.correct`, 'must be a non-empty list of the correct choices');
  } else {
    r.correct.forEach((c, i) => {
      if (typeof c !== 'string') p.add(`${path}.correct[${i}]`, `must be a choice text (got ${show(c)})`);
      else if (!known.has(c))
        p.add(`${path}.correct[${i}]`, `${show(c)} is not one of the choices (${choices.join(', ')})`);
      else if (correct.includes(c)) p.add(`${path}.correct[${i}]`, `${show(c)} is listed twice`);
      else correct.push(c);
    });
  }
  let weights: Record<string, unknown> = {};
  if (r.option_weights !== undefined) {
    if (!isPlainObject(r.option_weights)) {
      p.add(`${path}.option_weights`, 'must be an object mapping choice text to credit');
    } else {
      weights = r.option_weights;
      for (const [choice, credit] of Object.entries(weights)) {
        if (!known.has(choice))
          p.add(`${path}.option_weights`, `names ${show(choice)}, which is not one of the choices`);
        if (!isFiniteNumber(credit))
          p.add(`${path}.option_weights.${choice}`, `must be a number (got ${show(credit)})`);
      }
    }
  }
  for (const c of correct) {
    const credit = weights[c];
    if (isFiniteNumber(credit) && credit <= 0) {
      p.add(`${path}.option_weights.${c}`, `must be positive because ${show(c)} is a correct choice`);
    }
  }
  if (r.partial_credit !== undefined) {
    if (typeof r.partial_credit !== 'boolean') p.add(`${path}.partial_credit`, 'must be true or false');
    else if (r.select === 'single') p.add(`${path}.partial_credit`, 'applies only to select "multiple"');
  }
  if (r.wrong_penalty !== undefined && !(isFiniteNumber(r.wrong_penalty) && r.wrong_penalty >= 0)) {
    p.add(`${path}.wrong_penalty`, `must be a number >= 0 (got ${show(r.wrong_penalty)})`);
  }
  if (r.min_score !== undefined && !(isFiniteNumber(r.min_score) && r.min_score >= -1 && r.min_score <= 0)) {
    p.add(`${path}.min_score`, `must be a number between -1 and 0 (got ${show(r.min_score)})`);
  }
}

function checkFieldPath(value: unknown, path: string, p: Problems): void {
  if (!isNonEmptyString(value) || value.split('.').some((segment) => segment.trim().length === 0)) {
    p.add(path, `must be a field name or dotted path such as "experience.years" (got ${show(value)})`);
  }
}

function checkSynonyms(value: unknown, path: string, p: Problems): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every(isNonEmptyString)) p.add(path, 'must be a list of non-empty strings');
}

function checkProfileRubric(r: Record<string, unknown>, p: Problems): void {
  checkKeys(r, ['scoring', 'rules', 'description'], 'rubric', p);
  checkDescription(r, 'rubric', p);
  if (!Array.isArray(r.rules) || r.rules.length === 0) {
    p.add('rubric.rules', 'must be a non-empty list of rules');
    return;
  }
  const ids = new Set<string>();
  let totalPoints = 0;
  r.rules.forEach((rule, i) => {
    const path = `rubric.rules[${i}]`;
    if (!isPlainObject(rule)) {
      p.add(path, 'must be an object');
      return;
    }
    if (!isNonEmptyString(rule.id)) p.add(`${path}.id`, 'must be a non-empty string');
    else if (ids.has(rule.id)) p.add(`${path}.id`, `${show(rule.id)} is used by another rule`);
    else ids.add(rule.id);
    if (!isFiniteNumber(rule.points) || rule.points < 0) {
      p.add(`${path}.points`, `must be a number >= 0 (got ${show(rule.points)})`);
    } else {
      totalPoints += rule.points;
    }
    checkDescription(rule, path, p);
    switch (rule.type) {
      case 'skills':
        checkSkillsRule(rule, path, p);
        break;
      case 'keywords':
        checkKeywordsRule(rule, path, p);
        break;
      case 'range':
        checkRangeRule(rule, path, p);
        break;
      case 'required':
        checkRequiredRule(rule, path, p);
        break;
      default:
        p.add(`${path}.type`, `must be one of skills, keywords, range, required (got ${show(rule.type)})`);
    }
  });
  if (p.list.length === 0 && totalPoints <= 0) p.add('rubric.rules', 'must be worth more than 0 points in total');
}

const ruleBaseKeys = ['id', 'type', 'points', 'description'] as const;

function checkSkillsRule(rule: Record<string, unknown>, path: string, p: Problems): void {
  checkKeys(rule, [...ruleBaseKeys, 'field', 'expected', 'match'], path, p);
  checkFieldPath(rule.field, `${path}.field`, p);
  if (rule.match !== undefined && !['proportional', 'any', 'all'].includes(rule.match as string)) {
    p.add(`${path}.match`, `must be "proportional", "any" or "all" (got ${show(rule.match)})`);
  }
  if (!Array.isArray(rule.expected) || rule.expected.length === 0) {
    p.add(`${path}.expected`, 'must be a non-empty list of skills');
    return;
  }
  const seen = new Set<string>();
  rule.expected.forEach((entry, j) => {
    const at = `${path}.expected[${j}]`;
    let name: unknown = entry;
    if (isPlainObject(entry)) {
      checkKeys(entry, ['skill', 'synonyms', 'weight'], at, p);
      name = entry.skill;
      checkSynonyms(entry.synonyms, `${at}.synonyms`, p);
      if (entry.weight !== undefined && !(isFiniteNumber(entry.weight) && entry.weight > 0)) {
        p.add(`${at}.weight`, `must be a number > 0 (got ${show(entry.weight)})`);
      }
    }
    if (!isNonEmptyString(name)) {
      p.add(at, 'must be a skill name or {"skill", "synonyms"?, "weight"?}');
    } else if (seen.has(name.trim().toLowerCase())) {
      p.add(at, `${show(name)} is listed twice`);
    } else {
      seen.add(name.trim().toLowerCase());
    }
  });
}

function checkKeywordsRule(rule: Record<string, unknown>, path: string, p: Problems): void {
  checkKeys(rule, [...ruleBaseKeys, 'field', 'terms', 'min_matches', 'partial_credit'], path, p);
  checkFieldPath(rule.field, `${path}.field`, p);
  if (!Array.isArray(rule.terms) || rule.terms.length === 0) {
    p.add(`${path}.terms`, 'must be a non-empty list of terms');
    return;
  }
  rule.terms.forEach((entry, j) => {
    const at = `${path}.terms[${j}]`;
    let term: unknown = entry;
    if (isPlainObject(entry)) {
      checkKeys(entry, ['term', 'synonyms'], at, p);
      term = entry.term;
      checkSynonyms(entry.synonyms, `${at}.synonyms`, p);
    }
    if (!isNonEmptyString(term)) p.add(at, 'must be a term or {"term", "synonyms"?}');
  });
  if (rule.min_matches !== undefined) {
    const n = rule.min_matches;
    if (!(Number.isInteger(n) && (n as number) >= 1 && (n as number) <= rule.terms.length)) {
      p.add(`${path}.min_matches`, `must be a whole number from 1 to ${rule.terms.length} (got ${show(n)})`);
    }
  }
  if (rule.partial_credit !== undefined && typeof rule.partial_credit !== 'boolean') {
    p.add(`${path}.partial_credit`, 'must be true or false');
  }
}

function checkRangeRule(rule: Record<string, unknown>, path: string, p: Problems): void {
  checkKeys(rule, [...ruleBaseKeys, 'field', 'bands'], path, p);
  checkFieldPath(rule.field, `${path}.field`, p);
  if (!Array.isArray(rule.bands) || rule.bands.length === 0) {
    p.add(`${path}.bands`, 'must be a non-empty list of {"min"?, "max"?, "credit"}');
    return;
  }
  const intervals: { lo: number; hi: number; at: string }[] = [];
  rule.bands.forEach((band, j) => {
    const at = `${path}.bands[${j}]`;
    if (!isPlainObject(band)) {
      p.add(at, 'must be an object {"min"?, "max"?, "credit"}');
      return;
    }
    checkKeys(band, ['min', 'max', 'credit', 'label'], at, p);
    if (band.min !== undefined && !isFiniteNumber(band.min)) p.add(`${at}.min`, 'must be a number');
    if (band.max !== undefined && !isFiniteNumber(band.max)) p.add(`${at}.max`, 'must be a number');
    if (band.min === undefined && band.max === undefined) p.add(at, 'needs a "min", a "max" or both');
    if (band.label !== undefined && typeof band.label !== 'string') p.add(`${at}.label`, 'must be a string');
    if (!(isFiniteNumber(band.credit) && band.credit >= 0 && band.credit <= 1)) {
      p.add(`${at}.credit`, `must be a number from 0 to 1 (got ${show(band.credit)})`);
    }
    const lo = isFiniteNumber(band.min) ? band.min : -Infinity;
    const hi = isFiniteNumber(band.max) ? band.max : Infinity;
    if (lo >= hi) p.add(at, `"min" (${lo}) must be below "max" (${hi})`);
    else intervals.push({ lo, hi, at });
  });
  intervals.sort((a, b) => a.lo - b.lo);
  for (let k = 1; k < intervals.length; k += 1) {
    const prev = intervals[k - 1]!;
    const next = intervals[k]!;
    if (next.lo < prev.hi) p.add(next.at, `overlaps ${prev.at} (bands are [min, max) and must not overlap)`);
  }
}

function checkRequiredRule(rule: Record<string, unknown>, path: string, p: Problems): void {
  checkKeys(rule, [...ruleBaseKeys, 'fields'], path, p);
  if (!Array.isArray(rule.fields) || rule.fields.length === 0) {
    p.add(`${path}.fields`, 'must be a non-empty list of field names');
    return;
  }
  rule.fields.forEach((field, j) => checkFieldPath(field, `${path}.fields[${j}]`, p));
  if (new Set(rule.fields).size !== rule.fields.length) p.add(`${path}.fields`, 'lists a field twice');
}

function checkEssayRubric(r: Record<string, unknown>, p: Problems): void {
  checkKeys(r, ['scoring', 'criteria', 'min_words', 'max_words', 'description'], 'rubric', p);
  checkDescription(r, 'rubric', p);
  for (const key of ['min_words', 'max_words'] as const) {
    const n = r[key];
    if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 1)) {
      p.add(`rubric.${key}`, `must be a whole number >= 1 (got ${show(n)})`);
    }
  }
  if (isFiniteNumber(r.min_words) && isFiniteNumber(r.max_words) && r.min_words > r.max_words) {
    p.add('rubric.min_words', `(${r.min_words}) must not exceed max_words (${r.max_words})`);
  }
  if (!Array.isArray(r.criteria) || r.criteria.length === 0) {
    p.add('rubric.criteria', 'must be a non-empty list of criteria');
    return;
  }
  const ids = new Set<string>();
  r.criteria.forEach((criterion, i) => {
    const path = `rubric.criteria[${i}]`;
    if (!isPlainObject(criterion)) {
      p.add(path, 'must be an object {"id", "description", "weight", "bands"}');
      return;
    }
    checkKeys(criterion, ['id', 'description', 'weight', 'bands'], path, p);
    if (!isNonEmptyString(criterion.id)) p.add(`${path}.id`, 'must be a non-empty string');
    else if (ids.has(criterion.id)) p.add(`${path}.id`, `${show(criterion.id)} is used by another criterion`);
    else ids.add(criterion.id);
    if (!isNonEmptyString(criterion.description)) p.add(`${path}.description`, 'must be a non-empty string');
    if (!(isFiniteNumber(criterion.weight) && criterion.weight > 0)) {
      p.add(`${path}.weight`, `must be a number > 0 (got ${show(criterion.weight)})`);
    }
    if (!Array.isArray(criterion.bands) || criterion.bands.length < 2) {
      p.add(`${path}.bands`, 'must list at least two bands {"score", "descriptor"}');
      return;
    }
    const scores = new Set<number>();
    criterion.bands.forEach((band, j) => {
      const at = `${path}.bands[${j}]`;
      if (!isPlainObject(band)) {
        p.add(at, 'must be an object {"score", "descriptor"}');
        return;
      }
      checkKeys(band, ['score', 'descriptor'], at, p);
      if (!(isFiniteNumber(band.score) && band.score >= 0)) p.add(`${at}.score`, `must be a number >= 0`);
      else if (scores.has(band.score)) p.add(`${at}.score`, `${band.score} is used by another band`);
      else scores.add(band.score);
      if (!isNonEmptyString(band.descriptor)) p.add(`${at}.descriptor`, 'must be a non-empty string');
    });
  });
}
