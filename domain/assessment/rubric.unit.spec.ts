import { DomainError } from '../shared/errors';
import type { QuestionType } from './rubric';
import { parseRubric, rubricProblems } from './rubric';
import {
  choiceQuestionChoices,
  cloudProfile,
  essayDesign,
  multipleWithPenalty,
  singleChoice,
  weightedOptions,
  weightedOptionsChoices,
} from './rubricExamples';

const choices = choiceQuestionChoices;
const mc = (rubric: unknown): string[] => rubricProblems(rubric, 'multiple_choice', choices);
const profile = (rubric: unknown): string[] => rubricProblems(rubric, 'profile', null);
const essay = (rubric: unknown): string[] => rubricProblems(rubric, 'essay', null);

/** A profile rubric with one rule, for rule-level checks. */
const withRule = (rule: Record<string, unknown>): unknown => ({
  scoring: 'profile',
  rules: [{ id: 'r', points: 1, ...rule }],
});

describe('rubric validation', () => {
  describe('the documented examples are valid', () => {
    test.each<[string, unknown, QuestionType, string[] | null]>([
      ['single choice', singleChoice, 'multiple_choice', choices],
      ['multiple with penalty', multipleWithPenalty, 'multiple_choice', choices],
      ['weighted options', weightedOptions, 'multiple_choice', weightedOptionsChoices],
      ['profile', cloudProfile, 'profile', null],
      ['essay', essayDesign, 'essay', null],
    ])('%s', (_name, rubric, type, questionChoices) => {
      expect(rubricProblems(rubric, type, questionChoices)).toEqual([]);
      expect(parseRubric(rubric, type, questionChoices)).toBe(rubric);
    });
  });

  test('a rubric must be an object whose scoring matches the question type', () => {
    expect(mc('kubernetes')).toEqual(['rubric must be a JSON object']);
    expect(mc(null)).toEqual(['rubric must be a JSON object']);
    expect(profile(singleChoice)).toEqual(['rubric.scoring must be "profile" for a profile question (got "choice")']);
    expect(essay({})).toEqual(['rubric.scoring must be "essay" for an essay question (got nothing)']);
  });

  describe('choice rubrics', () => {
    test.each<[string, Record<string, unknown>, RegExp]>([
      ['unknown select', { select: 'some' }, /rubric.select must be "single" or "multiple"/],
      ['no correct choice', { correct: [] }, /rubric.correct must be a non-empty list/],
      ['a correct choice that is not a choice', { correct: ['rsync'] }, /"rsync" is not one of the choices/],
      ['a correct choice listed twice', { correct: ['helm', 'helm'] }, /"helm" is listed twice/],
      ['a non-text correct choice', { correct: [1] }, /rubric.correct\[0\] must be a choice text/],
      ['option_weights not an object', { option_weights: [1] }, /option_weights must be an object/],
      ['option weight for an unknown choice', { option_weights: { rsync: 1 } }, /names "rsync"/],
      ['non-numeric option weight', { option_weights: { ftp: 'low' } }, /option_weights.ftp must be a number/],
      ['a correct choice weighted 0', { option_weights: { kubernetes: 0 } }, /must be positive because "kubernetes"/],
      ['partial credit on a single choice', { partial_credit: true }, /applies only to select "multiple"/],
      [
        'partial credit not boolean',
        { select: 'multiple', partial_credit: 'yes' },
        /partial_credit must be true or false/,
      ],
      ['negative wrong penalty', { wrong_penalty: -1 }, /wrong_penalty must be a number >= 0/],
      ['min_score below -1', { min_score: -2 }, /min_score must be a number between -1 and 0/],
      ['min_score above 0', { min_score: 0.5 }, /min_score must be a number between -1 and 0/],
      ['a misspelt key', { parital_credit: true }, /rubric.parital_credit is not a known key/],
    ])('rejects %s', (_name, change, problem) => {
      const problems = mc({ ...singleChoice, ...change });
      expect(problems.join('\n')).toMatch(problem);
    });
  });

  describe('profile rubrics', () => {
    test.each<[string, unknown, RegExp]>([
      ['no rules', { scoring: 'profile', rules: [] }, /rubric.rules must be a non-empty list/],
      [
        'a rule that is not an object',
        { scoring: 'profile', rules: ['skills'] },
        /rubric.rules\[0\] must be an object/,
      ],
      [
        'two rules with one id',
        { scoring: 'profile', rules: [cloudProfile.rules[1], cloudProfile.rules[1]] },
        /rubric.rules\[1\].id "core-skills" is used by another rule/,
      ],
      ['an unknown rule type', withRule({ type: 'vibes' }), /type must be one of skills, keywords, range, required/],
      ['negative points', withRule({ type: 'required', fields: ['a'], points: -1 }), /points must be a number >= 0/],
      [
        'nothing to earn',
        { scoring: 'profile', rules: [{ id: 'r', type: 'required', fields: ['a'], points: 0 }] },
        /worth more than 0 points/,
      ],
      ['skills without a field', withRule({ type: 'skills', expected: ['aws'] }), /field must be a field name/],
      [
        'skills with an empty path segment',
        withRule({ type: 'skills', field: 'a..b', expected: ['aws'] }),
        /dotted path/,
      ],
      [
        'skills with nothing expected',
        withRule({ type: 'skills', field: 's', expected: [] }),
        /expected must be a non-empty/,
      ],
      [
        'a skill listed twice',
        withRule({ type: 'skills', field: 's', expected: ['AWS', { skill: 'aws' }] }),
        /listed twice/,
      ],
      ['an empty skill', withRule({ type: 'skills', field: 's', expected: [{ skill: ' ' }] }), /must be a skill name/],
      [
        'bad synonyms',
        withRule({ type: 'skills', field: 's', expected: [{ skill: 'a', synonyms: 'b' }] }),
        /synonyms must be a list/,
      ],
      [
        'a zero skill weight',
        withRule({ type: 'skills', field: 's', expected: [{ skill: 'a', weight: 0 }] }),
        /weight must be a number > 0/,
      ],
      ['an unknown match', withRule({ type: 'skills', field: 's', expected: ['a'], match: 'most' }), /match must be/],
      [
        'keywords without terms',
        withRule({ type: 'keywords', field: 't', terms: [] }),
        /terms must be a non-empty list/,
      ],
      ['a blank term', withRule({ type: 'keywords', field: 't', terms: [{ term: '' }] }), /must be a term/],
      [
        'min_matches above the terms',
        withRule({ type: 'keywords', field: 't', terms: ['a'], min_matches: 2 }),
        /from 1 to 1/,
      ],
      ['min_matches of 0', withRule({ type: 'keywords', field: 't', terms: ['a'], min_matches: 0 }), /from 1 to 1/],
      ['range without bands', withRule({ type: 'range', field: 'n', bands: [] }), /bands must be a non-empty list/],
      [
        'a band without bounds',
        withRule({ type: 'range', field: 'n', bands: [{ credit: 1 }] }),
        /needs a "min", a "max" or both/,
      ],
      [
        'a band with min >= max',
        withRule({ type: 'range', field: 'n', bands: [{ min: 3, max: 3, credit: 1 }] }),
        /must be below "max"/,
      ],
      [
        'credit above 1',
        withRule({ type: 'range', field: 'n', bands: [{ min: 0, credit: 2 }] }),
        /credit must be a number from 0 to 1/,
      ],
      [
        'overlapping bands',
        withRule({
          type: 'range',
          field: 'n',
          bands: [
            { min: 0, max: 5, credit: 0.5 },
            { min: 4, credit: 1 },
          ],
        }),
        /bands\[1\] overlaps .*bands\[0\]/,
      ],
      [
        'an unbounded band followed by another',
        withRule({
          type: 'range',
          field: 'n',
          bands: [
            { min: 10, credit: 1 },
            { max: 20, credit: 0 },
          ],
        }),
        /overlaps/,
      ],
      ['required without fields', withRule({ type: 'required', fields: [] }), /fields must be a non-empty list/],
      ['required listing a field twice', withRule({ type: 'required', fields: ['a', 'a'] }), /lists a field twice/],
      [
        'an unknown key on a rule',
        withRule({ type: 'required', fields: ['a'], weight: 2 }),
        /rules\[0\].weight is not a known key/,
      ],
    ])('rejects %s', (_name, rubric, problem) => {
      expect(profile(rubric).join('\n')).toMatch(problem);
    });

    test('adjacent bands ([0, 2) then [2, 5)) do not overlap', () => {
      expect(
        profile(
          withRule({
            type: 'range',
            field: 'n',
            bands: [
              { max: 2, credit: 0 },
              { min: 2, max: 5, credit: 1 },
            ],
          }),
        ),
      ).toEqual([]);
    });
  });

  describe('essay rubrics', () => {
    const criterion = essayDesign.criteria[1]!;
    test.each<[string, unknown, RegExp]>([
      ['no criteria', { scoring: 'essay', criteria: [] }, /criteria must be a non-empty list/],
      [
        'a criterion without description',
        { scoring: 'essay', criteria: [{ ...criterion, description: '' }] },
        /description must be a non-empty string/,
      ],
      ['a zero weight', { scoring: 'essay', criteria: [{ ...criterion, weight: 0 }] }, /weight must be a number > 0/],
      [
        'a single band',
        { scoring: 'essay', criteria: [{ ...criterion, bands: [criterion.bands[0]] }] },
        /at least two bands/,
      ],
      [
        'two bands with one score',
        { scoring: 'essay', criteria: [{ ...criterion, bands: [criterion.bands[0], criterion.bands[0]] }] },
        /0 is used by another band/,
      ],
      [
        'a band without descriptor',
        { scoring: 'essay', criteria: [{ ...criterion, bands: [criterion.bands[0], { score: 1 }] }] },
        /descriptor must be a non-empty string/,
      ],
      [
        'two criteria with one id',
        { scoring: 'essay', criteria: [criterion, criterion] },
        /"clarity" is used by another criterion/,
      ],
      [
        'min_words above max_words',
        { ...essayDesign, min_words: 700 },
        /min_words \(700\) must not exceed max_words \(600\)/,
      ],
      ['a fractional word limit', { ...essayDesign, max_words: 10.5 }, /max_words must be a whole number/],
    ])('rejects %s', (_name, rubric, problem) => {
      expect(essay(rubric).join('\n')).toMatch(problem);
    });
  });

  test('parseRubric throws INVALID_RUBRIC listing every problem', () => {
    let thrown: unknown;
    try {
      parseRubric({ ...singleChoice, select: 'all', correct: ['rsync'] }, 'multiple_choice', choices);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    const error = thrown as DomainError;
    expect(error.code).toBe('INVALID_RUBRIC');
    expect(error.kind).toBe('validation');
    expect(error.details?.problems).toHaveLength(2);
    expect(error.message).toMatch(/^The rubric is invalid: rubric.select .*; rubric.correct\[0\] "rsync" is not one/);
  });

  test('parseRubric can raise another code', () => {
    expect(() => parseRubric({}, 'essay', null, 'INVALID_QUESTION_SNAPSHOT')).toThrow(
      expect.objectContaining({ code: 'INVALID_QUESTION_SNAPSHOT' }),
    );
  });
});
