import type { AppliedRule, QuestionSnapshot } from './assessment';
import { checkAnswer, fieldValue, numberOf, selectedChoices, skillItems, textOf } from './answers';
import type {
  ChoiceRubric,
  KeywordsRule,
  ProfileRubric,
  ProfileRule,
  RangeBand,
  RangeRule,
  RequiredRule,
  SkillsRule,
} from './rubric';
import { skillOf, termOf } from './rubric';
import { firstPhraseIn } from './textMatch';

/**
 * Deterministic rule scoring of multiple_choice and profile answers (see RUBRICS.md).
 *
 * The score of a question is `fraction × weight`, rounded to 2 decimals, where the fraction
 * comes from the rubric. `max_score` is the question's weight. `rules_applied` lists what each
 * rubric rule contributed, in score points, so that the lines add up to the score (up to
 * rounding); `explanation` says the same in a sentence a student can read.
 *
 * The scorer is pure: the same question and answer always give the same result.
 */
export interface RuleScore {
  score: number;
  max_score: number;
  rules_applied: AppliedRule[];
  explanation: string;
}

export type ScorableQuestion = Pick<QuestionSnapshot, 'question_id' | 'type' | 'choices' | 'rubric' | 'weight'>;

export function isRuleScored(question: Pick<QuestionSnapshot, 'type'>): boolean {
  return question.type === 'multiple_choice' || question.type === 'profile';
}

/**
 * Scores an answer to a multiple_choice or profile question; `null` for essays (scored
 * elsewhere). A malformed answer throws `INVALID_ANSWER` (see answers.ts).
 */
export function scoreAnswer(question: ScorableQuestion, answer: unknown): RuleScore | null {
  const snapshot = question as QuestionSnapshot;
  if (!isRuleScored(question)) return null;
  checkAnswer(snapshot, answer);
  if (question.type === 'multiple_choice') return scoreChoice(snapshot, answer);
  if (question.type === 'profile') return scoreProfile(snapshot, answer);
  return null;
}

/** Half-up rounding to 2 decimals, without -0. */
export function round2(value: number): number {
  const rounded = Math.round((value + Math.sign(value) * Number.EPSILON) * 100) / 100;
  return rounded === 0 ? 0 : rounded;
}

function fmt(value: number): string {
  return String(round2(value));
}

function signed(value: number): string {
  const r = round2(value);
  return r < 0 ? String(r) : `+${r}`;
}

function list(items: string[]): string {
  return items.join(', ');
}

// ---------------------------------------------------------------------------------------------
// multiple_choice

function scoreChoice(question: QuestionSnapshot, answer: unknown): RuleScore {
  const rubric = question.rubric as ChoiceRubric;
  const picked = selectedChoices(question, answer);
  const weights = rubric.option_weights ?? {};
  const penalty = rubric.wrong_penalty ?? 0;
  const minScore = rubric.min_score ?? 0;
  const correct = new Set(rubric.correct);
  const credit = (option: string): number => weights[option] ?? (correct.has(option) ? 1 : -penalty);
  const weight = question.weight;

  const lines: AppliedRule[] = [];
  let possible: number;
  let earned: number;
  let summary: string;
  const toPoints = (c: number): number => round2((c / possible) * weight);

  if (rubric.select === 'single') {
    possible = Math.max(...rubric.correct.map(credit));
    const option = picked[0]!;
    earned = credit(option);
    lines.push(choiceLine(option, correct.has(option), weights[option], earned, toPoints(earned)));
    if (correct.has(option)) {
      summary = `Selected "${option}": correct${earned < possible ? ` (partial credit ${fmt(earned)})` : ''}`;
    } else {
      const because =
        weights[option] !== undefined
          ? earned > 0
            ? `partially correct (${signed(toPoints(earned))})`
            : `incorrect (${signed(toPoints(earned))})`
          : penalty > 0
            ? `incorrect, penalty ${signed(toPoints(earned))}`
            : 'incorrect';
      summary = `Selected "${option}": ${because}; correct answer: ${list(rubric.correct)}`;
    }
  } else {
    possible = rubric.correct.reduce((sum, c) => sum + credit(c), 0);
    const right = picked.filter((o) => correct.has(o));
    const wrong = picked.filter((o) => !correct.has(o));
    const missed = rubric.correct.filter((c) => !picked.includes(c));
    const wrongPart = (items: string[], points: number): string =>
      items.length === 0
        ? ''
        : `; ${items.length} wrong pick${items.length > 1 ? 's' : ''} (${list(items)})${points !== 0 ? ` ${signed(points)}` : ''}`;
    const base = `Selected ${right.length} of ${rubric.correct.length} correct options${right.length > 0 ? ` (${list(right)})` : ''}${missed.length > 0 ? `; missed ${list(missed)}` : ''}`;

    if (rubric.partial_credit === true) {
      earned = picked.reduce((sum, o) => sum + credit(o), 0);
      for (const o of picked) lines.push(choiceLine(o, correct.has(o), weights[o], credit(o), toPoints(credit(o))));
      for (const m of missed) lines.push({ rule: 'missed_choice', outcome: `did not select "${m}"`, points: 0 });
      summary = base + wrongPart(wrong, toPoints(wrong.reduce((sum, o) => sum + credit(o), 0)));
    } else {
      const exact = wrong.length === 0 && missed.length === 0;
      const penalties = wrong.filter((o) => credit(o) < 0);
      earned = exact ? possible : penalties.reduce((sum, o) => sum + credit(o), 0);
      lines.push({
        rule: 'all_or_nothing',
        outcome: exact ? 'selected exactly the correct options' : 'did not select exactly the correct options',
        points: exact ? round2(weight) : 0,
      });
      for (const o of penalties) lines.push(choiceLine(o, false, weights[o], credit(o), toPoints(credit(o))));
      summary =
        base +
        wrongPart(wrong, toPoints(penalties.reduce((sum, o) => sum + credit(o), 0))) +
        (exact ? '' : '; all-or-nothing: full credit only for exactly the correct options');
    }
  }

  const fraction = earned / possible;
  const clamped = Math.min(1, Math.max(minScore, fraction));
  if (clamped !== fraction) {
    lines.push({
      rule: clamped > fraction ? 'min_score' : 'max_score',
      outcome: clamped > fraction ? `floored at the minimum score ${fmt(minScore * weight)}` : 'capped at full credit',
      points: round2((clamped - fraction) * weight),
    });
    summary += clamped > fraction ? `; floored at ${fmt(minScore * weight)}` : '; capped at full credit';
  }
  const score = round2(clamped * weight);
  return {
    score,
    max_score: weight,
    rules_applied: lines,
    explanation: `${summary}. Score ${fmt(score)} of ${fmt(weight)}.`,
  };
}

function choiceLine(
  option: string,
  isCorrect: boolean,
  optionWeight: number | undefined,
  credit: number,
  points: number,
): AppliedRule {
  if (optionWeight !== undefined) {
    return {
      rule: 'option_weight',
      outcome: `selected "${option}" (${isCorrect ? 'correct' : 'incorrect'}, weighted ${fmt(optionWeight)})`,
      points,
    };
  }
  if (isCorrect) return { rule: 'correct_choice', outcome: `selected "${option}"`, points };
  if (credit < 0) return { rule: 'wrong_penalty', outcome: `selected "${option}" (incorrect)`, points };
  return { rule: 'wrong_choice', outcome: `selected "${option}" (incorrect)`, points };
}

// ---------------------------------------------------------------------------------------------
// profile

interface RuleResult {
  /** Share of the rule's points earned, 0–1. */
  credit: number;
  outcome: string;
}

function scoreProfile(question: QuestionSnapshot, answer: unknown): RuleScore {
  const rubric = question.rubric as ProfileRubric;
  const weight = question.weight;
  const totalPoints = rubric.rules.reduce((sum, rule) => sum + rule.points, 0);
  let earnedPoints = 0;
  const lines: AppliedRule[] = [];
  const parts: string[] = [];
  for (const rule of rubric.rules) {
    const result = evaluateRule(rule, answer);
    const rulePoints = result.credit * rule.points;
    earnedPoints += rulePoints;
    const points = round2((rulePoints / totalPoints) * weight);
    lines.push({ rule: rule.id, outcome: result.outcome, points });
    parts.push(`${rule.id}: ${result.outcome} (${signed(points)})`);
  }
  const score = round2((earnedPoints / totalPoints) * weight);
  return {
    score,
    max_score: weight,
    rules_applied: lines,
    explanation: `${parts.join('; ')}. Score ${fmt(score)} of ${fmt(weight)} (${fmt(earnedPoints)} of ${fmt(totalPoints)} rubric points).`,
  };
}

function evaluateRule(rule: ProfileRule, answer: unknown): RuleResult {
  switch (rule.type) {
    case 'skills':
      return evaluateSkills(rule, answer);
    case 'keywords':
      return evaluateKeywords(rule, answer);
    case 'range':
      return evaluateRange(rule, answer);
    case 'required':
      return evaluateRequired(rule);
    default: {
      const _unhandled: never = rule;
      return { credit: 0, outcome: `unknown rule ${JSON.stringify(_unhandled)}` };
    }
  }
}

function evaluateSkills(rule: SkillsRule, answer: unknown): RuleResult {
  const items = skillItems(fieldValue(answer, rule.field)) ?? [];
  const expected = rule.expected.map(skillOf);
  if (items.length === 0) return { credit: 0, outcome: `"${rule.field}" not answered` };
  const found: string[] = [];
  const missing: string[] = [];
  let weightFound = 0;
  let weightTotal = 0;
  for (const skill of expected) {
    const skillWeight = skill.weight ?? 1;
    weightTotal += skillWeight;
    const phrases = [skill.skill, ...(skill.synonyms ?? [])];
    let via: string | undefined;
    for (const item of items) {
      via = firstPhraseIn(item, phrases);
      if (via !== undefined) break;
    }
    if (via === undefined) {
      missing.push(skill.skill);
    } else {
      weightFound += skillWeight;
      found.push(via.toLowerCase() === skill.skill.toLowerCase() ? skill.skill : `${skill.skill} (as "${via}")`);
    }
  }
  const match = rule.match ?? 'proportional';
  const credit =
    match === 'any'
      ? found.length > 0
        ? 1
        : 0
      : match === 'all'
        ? missing.length === 0
          ? 1
          : 0
        : weightFound / weightTotal;
  const outcome =
    `matched ${found.length} of ${expected.length} skills${found.length > 0 ? ` (${list(found)})` : ''}` +
    (missing.length > 0 ? `; missing ${list(missing)}` : '') +
    (match === 'proportional' ? '' : `; ${match === 'any' ? 'any one' : 'all'} required`);
  return { credit, outcome };
}

function evaluateKeywords(rule: KeywordsRule, answer: unknown): RuleResult {
  const text = textOf(fieldValue(answer, rule.field)) ?? '';
  if (text.trim().length === 0) return { credit: 0, outcome: `"${rule.field}" not answered` };
  const found: string[] = [];
  for (const entry of rule.terms.map(termOf)) {
    const via = firstPhraseIn(text, [entry.term, ...(entry.synonyms ?? [])]);
    if (via !== undefined) {
      found.push(via.toLowerCase() === entry.term.toLowerCase() ? entry.term : `${entry.term} (as "${via}")`);
    }
  }
  const needed = rule.min_matches ?? 1;
  const credit = found.length >= needed ? 1 : rule.partial_credit === true ? found.length / needed : 0;
  const outcome = `found ${found.length} of ${rule.terms.length} terms${found.length > 0 ? ` (${list(found)})` : ''}; ${needed} needed`;
  return { credit, outcome };
}

function bandText(band: RangeBand): string {
  const range =
    band.min !== undefined && band.max !== undefined
      ? `[${band.min}, ${band.max})`
      : band.min !== undefined
        ? `>= ${band.min}`
        : `< ${band.max}`;
  return band.label !== undefined ? `${range} "${band.label}"` : range;
}

function evaluateRange(rule: RangeRule, answer: unknown): RuleResult {
  const raw = fieldValue(answer, rule.field);
  const value = numberOf(raw);
  if (value === undefined) return { credit: 0, outcome: `"${rule.field}" not answered` };
  const band = rule.bands.find(
    (b) => (b.min === undefined || value >= b.min) && (b.max === undefined || value < b.max),
  );
  if (band === undefined) return { credit: 0, outcome: `${rule.field} = ${value} is outside every band` };
  return { credit: band.credit, outcome: `${rule.field} = ${value} is in band ${bandText(band)}` };
}

function evaluateRequired(rule: RequiredRule): RuleResult {
  // Answers missing a required field never reach the scorer (checkAnswer rejects them).
  return { credit: 1, outcome: `all required fields present (${list(rule.fields)})` };
}
