import { DomainError } from '../shared/errors';
import { idFromKey } from '../shared/ids';
import type { QuestionSnapshot } from './assessment';
import type { ChoiceRubric, ProfileRubric, ProfileRule } from './rubric';
import {
  choiceQuestionChoices,
  cloudProfile,
  essayDesign,
  multipleWithPenalty,
  singleChoice,
  weightedOptions,
  weightedOptionsChoices,
} from './rubricExamples';
import type { RuleScore } from './ruleScoring';
import { round2, scoreAnswer } from './ruleScoring';

const mc = (rubric: ChoiceRubric, weight: number, choices = choiceQuestionChoices): QuestionSnapshot => ({
  question_id: idFromKey('question', 'mc'),
  version: '1',
  type: 'multiple_choice',
  prompt: 'Pick',
  choices,
  rubric,
  weight,
  required: true,
});

const profile = (rubric: ProfileRubric, weight = 10): QuestionSnapshot => ({
  question_id: idFromKey('question', 'profile'),
  version: '1',
  type: 'profile',
  prompt: 'About you',
  choices: null,
  rubric,
  weight,
  required: false,
});

const oneRule = (rule: ProfileRule): ProfileRubric => ({ scoring: 'profile', rules: [rule] });

const score = (question: QuestionSnapshot, answer: unknown): RuleScore => {
  const result = scoreAnswer(question, answer);
  if (result === null) throw new Error('expected a rule score');
  return result;
};

describe('rule scoring', () => {
  describe('multiple choice, single answer', () => {
    const question = mc(singleChoice, 2);

    test('the correct choice earns the full weight', () => {
      expect(score(question, 'kubernetes')).toEqual({
        score: 2,
        max_score: 2,
        rules_applied: [{ rule: 'correct_choice', outcome: 'selected "kubernetes"', points: 2 }],
        explanation: 'Selected "kubernetes": correct. Score 2 of 2.',
      });
    });

    test('the choice may be given by 0-based index', () => {
      expect(score(question, 0).score).toBe(2);
      expect(score(question, 0).explanation).toMatch(/^Selected "kubernetes"/);
      expect(score(question, 1).score).toBe(0);
      expect(score(question, 1).explanation).toMatch(/^Selected "docker"/);
    });

    test('a wrong choice earns nothing', () => {
      expect(score(question, 'docker')).toEqual({
        score: 0,
        max_score: 2,
        rules_applied: [{ rule: 'wrong_choice', outcome: 'selected "docker" (incorrect)', points: 0 }],
        explanation: 'Selected "docker": incorrect; correct answer: kubernetes. Score 0 of 2.',
      });
    });

    test('any of several correct choices earns the full weight', () => {
      const either = mc({ ...singleChoice, correct: ['kubernetes', 'helm'] }, 2);
      expect(score(either, 'helm').score).toBe(2);
      expect(score(either, 'kubernetes').score).toBe(2);
    });

    test('a wrong-pick penalty is floored at min_score (default 0)', () => {
      const penalised = mc({ ...singleChoice, wrong_penalty: 0.5 }, 2);
      expect(score(penalised, 'ftp')).toEqual({
        score: 0,
        max_score: 2,
        rules_applied: [
          { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -1 },
          { rule: 'min_score', outcome: 'floored at the minimum score 0', points: 1 },
        ],
        explanation: 'Selected "ftp": incorrect, penalty -1; correct answer: kubernetes; floored at 0. Score 0 of 2.',
      });
    });

    test('a negative min_score allows negative marking, down to the floor', () => {
      const floorQuarter = mc({ ...singleChoice, wrong_penalty: 0.5, min_score: -0.25 }, 2);
      expect(score(floorQuarter, 'ftp').score).toBe(-0.5);
      expect(score(floorQuarter, 'ftp').rules_applied).toEqual([
        { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -1 },
        { rule: 'min_score', outcome: 'floored at the minimum score -0.5', points: 0.5 },
      ]);
      const floorFull = mc({ ...singleChoice, wrong_penalty: 0.5, min_score: -1 }, 2);
      expect(score(floorFull, 'ftp').score).toBe(-1);
      expect(score(floorFull, 'ftp').rules_applied).toHaveLength(1);
    });

    describe('weighted options', () => {
      const question = mc(weightedOptions, 4, weightedOptionsChoices);

      test('the best answer earns full credit', () => {
        expect(score(question, 'rolling update').score).toBe(4);
      });

      test('an acceptable answer earns its weight', () => {
        expect(score(question, 'blue-green')).toEqual({
          score: 3,
          max_score: 4,
          rules_applied: [
            { rule: 'option_weight', outcome: 'selected "blue-green" (correct, weighted 0.75)', points: 3 },
          ],
          explanation: 'Selected "blue-green": correct (partial credit 0.75). Score 3 of 4.',
        });
      });

      test('an unweighted distractor earns nothing', () => {
        expect(score(question, 'ssh and restart').score).toBe(0);
      });

      test('a penalised distractor is negative, floored at min_score', () => {
        expect(score(question, 'delete and recreate')).toEqual({
          score: -1,
          max_score: 4,
          rules_applied: [
            { rule: 'option_weight', outcome: 'selected "delete and recreate" (incorrect, weighted -0.5)', points: -2 },
            { rule: 'min_score', outcome: 'floored at the minimum score -1', points: 1 },
          ],
          explanation:
            'Selected "delete and recreate": incorrect (-2); correct answer: rolling update, blue-green; floored at -1. Score -1 of 4.',
        });
      });
    });
  });

  describe('multiple choice, several answers', () => {
    describe('with partial credit and a wrong-pick penalty', () => {
      const question = mc(multipleWithPenalty, 3);

      test('all correct options earn the full weight', () => {
        expect(score(question, { selected: ['helm', 'docker', 'kubernetes'] }).score).toBe(3);
      });

      test('indexes work as well as texts', () => {
        expect(score(question, { selected: [0, 1, 2] }).score).toBe(3);
      });

      test('each correct pick earns its share and each wrong pick costs the penalty', () => {
        expect(score(question, { selected: ['kubernetes', 'docker', 'ftp'] })).toEqual({
          score: 1.5,
          max_score: 3,
          rules_applied: [
            { rule: 'correct_choice', outcome: 'selected "kubernetes"', points: 1 },
            { rule: 'correct_choice', outcome: 'selected "docker"', points: 1 },
            { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -0.5 },
            { rule: 'missed_choice', outcome: 'did not select "helm"', points: 0 },
          ],
          explanation:
            'Selected 2 of 3 correct options (kubernetes, docker); missed helm; 1 wrong pick (ftp) -0.5. Score 1.5 of 3.',
        });
        expect(score(question, { selected: ['kubernetes', 'docker', 'helm', 'ftp'] }).score).toBe(2.5);
      });

      test('penalties never take the score below min_score', () => {
        expect(score(question, { selected: ['ftp'] })).toEqual({
          score: 0,
          max_score: 3,
          rules_applied: [
            { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -0.5 },
            { rule: 'missed_choice', outcome: 'did not select "kubernetes"', points: 0 },
            { rule: 'missed_choice', outcome: 'did not select "docker"', points: 0 },
            { rule: 'missed_choice', outcome: 'did not select "helm"', points: 0 },
            { rule: 'min_score', outcome: 'floored at the minimum score 0', points: 0.5 },
          ],
          explanation:
            'Selected 0 of 3 correct options; missed kubernetes, docker, helm; 1 wrong pick (ftp) -0.5; floored at 0. Score 0 of 3.',
        });
      });

      test('shares are rounded to 2 decimals', () => {
        const result = score(mc(multipleWithPenalty, 1), { selected: ['kubernetes'] });
        expect(result.score).toBe(0.33);
        expect(result.rules_applied[0]).toEqual({
          rule: 'correct_choice',
          outcome: 'selected "kubernetes"',
          points: 0.33,
        });
      });
    });

    describe('all-or-nothing (the default)', () => {
      const rubric: ChoiceRubric = { scoring: 'choice', select: 'multiple', correct: ['kubernetes', 'docker'] };
      const question = mc(rubric, 2);

      test('exactly the correct options, in any order, earn the full weight', () => {
        expect(score(question, { selected: ['docker', 'kubernetes'] })).toEqual({
          score: 2,
          max_score: 2,
          rules_applied: [{ rule: 'all_or_nothing', outcome: 'selected exactly the correct options', points: 2 }],
          explanation: 'Selected 2 of 2 correct options (docker, kubernetes). Score 2 of 2.',
        });
      });

      test('anything else earns nothing', () => {
        expect(score(question, { selected: ['kubernetes'] })).toEqual({
          score: 0,
          max_score: 2,
          rules_applied: [{ rule: 'all_or_nothing', outcome: 'did not select exactly the correct options', points: 0 }],
          explanation:
            'Selected 1 of 2 correct options (kubernetes); missed docker; all-or-nothing: full credit only for exactly the correct options. Score 0 of 2.',
        });
        expect(score(question, { selected: ['kubernetes', 'docker', 'helm'] }).score).toBe(0);
      });

      test('wrong-pick penalties still apply when min_score allows negative marks', () => {
        const negative = mc({ ...rubric, wrong_penalty: 0.5, min_score: -1 }, 2);
        const result = score(negative, { selected: ['kubernetes', 'docker', 'ftp'] });
        expect(result.score).toBe(-0.5);
        expect(result.rules_applied).toEqual([
          { rule: 'all_or_nothing', outcome: 'did not select exactly the correct options', points: 0 },
          { rule: 'wrong_penalty', outcome: 'selected "ftp" (incorrect)', points: -0.5 },
        ]);
      });
    });

    test('weighted options set each option’s share of the credit', () => {
      const weighted = mc({ ...multipleWithPenalty, option_weights: { kubernetes: 2 } }, 4);
      expect(score(weighted, { selected: ['kubernetes'] }).score).toBe(2);
      expect(score(weighted, { selected: ['docker', 'helm'] }).score).toBe(2);
    });

    test('bonus credit on a distractor is capped at full credit', () => {
      const bonus = mc(
        {
          scoring: 'choice',
          select: 'multiple',
          correct: ['kubernetes'],
          partial_credit: true,
          option_weights: { helm: 0.5 },
        },
        1,
      );
      const result = score(bonus, { selected: ['kubernetes', 'helm'] });
      expect(result.score).toBe(1);
      expect(result.rules_applied).toEqual([
        { rule: 'correct_choice', outcome: 'selected "kubernetes"', points: 1 },
        { rule: 'option_weight', outcome: 'selected "helm" (incorrect, weighted 0.5)', points: 0.5 },
        { rule: 'max_score', outcome: 'capped at full credit', points: -0.5 },
      ]);
    });

    test('a malformed answer is refused with INVALID_ANSWER', () => {
      expect(() => score(mc(multipleWithPenalty, 3), 'kubernetes')).toThrow(
        expect.objectContaining({ code: 'INVALID_ANSWER' }),
      );
    });
  });

  describe('profile', () => {
    const question = profile(cloudProfile, 10);

    test('a strong profile earns every rule, with each rule explained', () => {
      const result = score(question, {
        skills: ['Kubernetes', 'TF', 'Amazon Web Services'],
        summary: 'Built CI/CD pipelines and improved observability.',
        years_experience: 6,
      });
      expect(result).toEqual({
        score: 10,
        max_score: 10,
        rules_applied: [
          { rule: 'must-have', outcome: 'all required fields present (skills, years_experience)', points: 0 },
          {
            rule: 'core-skills',
            outcome: 'matched 3 of 3 skills (kubernetes, terraform (as "tf"), aws (as "amazon web services"))',
            points: 4,
          },
          { rule: 'practices', outcome: 'found 2 of 3 terms (ci/cd, observability); 2 needed', points: 2 },
          { rule: 'experience', outcome: 'years_experience = 6 is in band >= 6 "senior"', points: 4 },
        ],
        explanation:
          'must-have: all required fields present (skills, years_experience) (+0); ' +
          'core-skills: matched 3 of 3 skills (kubernetes, terraform (as "tf"), aws (as "amazon web services")) (+4); ' +
          'practices: found 2 of 3 terms (ci/cd, observability); 2 needed (+2); ' +
          'experience: years_experience = 6 is in band >= 6 "senior" (+4). Score 10 of 10 (10 of 10 rubric points).',
      });
    });

    test('partial matches earn proportional credit', () => {
      const result = score(question, {
        skills: 'I use k8s daily',
        years_experience: '3',
        summary: 'continuous delivery fan',
      });
      expect(result.rules_applied).toEqual([
        expect.objectContaining({ rule: 'must-have', points: 0 }),
        {
          rule: 'core-skills',
          outcome: 'matched 1 of 3 skills (kubernetes (as "k8s")); missing terraform, aws',
          points: 1,
        },
        { rule: 'practices', outcome: 'found 1 of 3 terms (ci/cd (as "continuous delivery")); 2 needed', points: 1 },
        { rule: 'experience', outcome: 'years_experience = 3 is in band [3, 6) "mid"', points: 3.2 },
      ]);
      expect(result.score).toBe(5.2);
      expect(result.explanation).toMatch(/Score 5.2 of 10 \(5.2 of 10 rubric points\)\.$/);
    });

    test('the score is scaled to the question weight', () => {
      const heavy = profile(cloudProfile, 5);
      const result = score(heavy, { skills: ['k8s'], years_experience: 3 });
      // 1 (skills) + 0 (no summary) + 3.2 (experience) = 4.2 of 10 rubric points → 2.1 of 5
      expect(result.score).toBe(2.1);
      expect(result.rules_applied.map((r) => r.points)).toEqual([0, 0.5, 0, 1.6]);
      expect(result.rules_applied[2]!.outcome).toBe('"summary" not answered');
    });

    test('a missing required field makes the answer invalid, naming the fields', () => {
      expect(() => score(question, { skills: ['aws'], years_experience: null })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ANSWER',
          details: expect.objectContaining({ missing_fields: ['years_experience'] }),
        }),
      );
      expect(() => score(question, { skills: '  ', years_experience: 2 })).toThrow(/required field missing: skills/);
    });

    describe('skills rule', () => {
      const skills = (
        expected: (string | { skill: string; synonyms?: string[]; weight?: number })[],
        match?: 'any' | 'all',
      ) =>
        profile(
          oneRule({ id: 'skills', type: 'skills', field: 'skills', points: 1, expected, ...(match ? { match } : {}) }),
          1,
        );

      test('matches case-insensitively, by synonym, and in {name}/{skill} objects', () => {
        const q = skills([{ skill: 'PostgreSQL', synonyms: ['postgres'] }, 'Terraform', 'AWS']);
        expect(score(q, { skills: ['POSTGRES', { name: 'terraform' }, { skill: 'aws', level: 3 }] }).score).toBe(1);
      });

      test('matches on word boundaries only', () => {
        const q = skills(['java', 'go', 'c++', 'node.js']);
        expect(score(q, { skills: ['JavaScript', 'Google Cloud'] }).score).toBe(0);
        const result = score(q, { skills: 'Mostly C++ and Go, some Node.js; no Java-script' });
        expect(result.rules_applied[0]!.outcome).toBe('matched 4 of 4 skills (java, go, c++, node.js)');
      });

      test('any: one expected skill is enough', () => {
        const q = skills(['aws', 'gcp', 'azure'], 'any');
        expect(score(q, { skills: ['gcp'] }).score).toBe(1);
        expect(score(q, { skills: ['oracle'] }).score).toBe(0);
      });

      test('all: every expected skill is needed', () => {
        const q = skills(['aws', 'gcp'], 'all');
        expect(score(q, { skills: ['gcp'] }).score).toBe(0);
        expect(score(q, { skills: ['gcp'] }).rules_applied[0]!.outcome).toBe(
          'matched 1 of 2 skills (gcp); missing aws; all required',
        );
        expect(score(q, { skills: ['gcp', 'AWS'] }).score).toBe(1);
      });

      test('skill weights set their share of the credit', () => {
        const q = skills([{ skill: 'aws', weight: 3 }, 'gcp']);
        expect(score(q, { skills: ['aws'] }).score).toBe(0.75);
        expect(score(q, { skills: ['gcp'] }).score).toBe(0.25);
      });

      test('a field of the wrong type is refused', () => {
        expect(() => score(skills(['aws']), { skills: 3 })).toThrow(/field "skills" must be a list of skills/);
        expect(() => score(skills(['aws']), { skills: [1, 2] })).toThrow(/field "skills" must be a list of skills/);
      });
    });

    describe('keywords rule', () => {
      const keywords = (minMatches: number, partial?: boolean) =>
        profile(
          oneRule({
            id: 'kw',
            type: 'keywords',
            field: 'about.summary',
            points: 2,
            terms: ['terraform', { term: 'kubernetes', synonyms: ['k8s'] }, 'sre'],
            min_matches: minMatches,
            ...(partial === undefined ? {} : { partial_credit: partial }),
          }),
          2,
        );

      test('reads a dotted path and counts each term once, synonyms included', () => {
        const result = score(keywords(2), { about: { summary: 'Kubernetes and k8s and Terraform' } });
        expect(result.score).toBe(2);
        expect(result.rules_applied[0]!.outcome).toBe('found 2 of 3 terms (terraform, kubernetes); 2 needed');
      });

      test('below min_matches earns nothing without partial credit', () => {
        expect(score(keywords(2), { about: { summary: 'terraform only' } }).score).toBe(0);
      });

      test('below min_matches earns a share with partial credit', () => {
        expect(score(keywords(2, true), { about: { summary: 'terraform only' } }).score).toBe(1);
      });

      test('matches whole words only', () => {
        expect(score(keywords(1), { about: { summary: 'terraforming mars, presre' } }).score).toBe(0);
        expect(score(keywords(1), { about: { summary: 'SRE.' } }).score).toBe(2);
      });

      test('a list of strings is read as text', () => {
        expect(score(keywords(1), { about: { summary: ['one line', 'I run k8s'] } }).score).toBe(2);
      });
    });

    describe('range rule', () => {
      const range = profile(
        oneRule({
          id: 'years',
          type: 'range',
          field: 'years',
          points: 1,
          bands: [
            { max: 1, credit: 0 },
            { min: 1, max: 3, credit: 0.5 },
            { min: 3, max: 6, credit: 0.8 },
            { min: 6, credit: 1 },
          ],
        }),
        1,
      );

      test.each([
        [-1, 0],
        [0, 0],
        [0.999, 0],
        [1, 0.5],
        [2.5, 0.5],
        [2.999, 0.5],
        [3, 0.8],
        [5.999, 0.8],
        [6, 1],
        [40, 1],
      ])('years = %p earns %p (bands are [min, max))', (years, expected) => {
        expect(score(range, { years }).score).toBe(expected);
      });

      test('numeric strings are read as numbers', () => {
        expect(score(range, { years: ' 3.5 ' }).score).toBe(0.8);
      });

      test('a value between bands earns nothing', () => {
        const gappy = profile(
          oneRule({
            id: 'years',
            type: 'range',
            field: 'years',
            points: 1,
            bands: [
              { min: 0, max: 2, credit: 1 },
              { min: 5, credit: 1 },
            ],
          }),
          1,
        );
        expect(score(gappy, { years: 3 })).toMatchObject({
          score: 0,
          rules_applied: [{ rule: 'years', outcome: 'years = 3 is outside every band', points: 0 }],
        });
      });

      test('a non-numeric value is refused', () => {
        expect(() => score(range, { years: 'ten' })).toThrow(expect.any(DomainError));
      });
    });
  });

  test('essays are not rule-scored', () => {
    const essay: QuestionSnapshot = { ...profile(cloudProfile), type: 'essay', rubric: essayDesign };
    expect(scoreAnswer(essay, 'some text')).toBeNull();
  });

  test('the rules applied add up to the score (up to rounding)', () => {
    const cases: [QuestionSnapshot, unknown][] = [
      [mc(singleChoice, 2), 'kubernetes'],
      [mc({ ...singleChoice, wrong_penalty: 1 }, 2), 'ftp'],
      [mc(multipleWithPenalty, 3), { selected: ['ftp', 'kubernetes'] }],
      [mc(multipleWithPenalty, 7), { selected: ['helm'] }],
      [mc(weightedOptions, 4, weightedOptionsChoices), 'delete and recreate'],
      [profile(cloudProfile, 7), { skills: ['aws', 'tf'], years_experience: 2, summary: 'sre' }],
    ];
    for (const [question, answer] of cases) {
      const result = score(question, answer);
      const sum = result.rules_applied.reduce((total, line) => total + line.points, 0);
      expect(Math.abs(sum - result.score)).toBeLessThanOrEqual(0.02);
    }
  });

  test('scoring is deterministic', () => {
    const question = profile(cloudProfile, 10);
    const answer = { skills: ['aws', 'k8s'], years_experience: 4, summary: 'observability and SRE' };
    const first = score(question, answer);
    for (let i = 0; i < 5; i += 1) {
      expect(score(structuredClone(question), structuredClone(answer))).toEqual(first);
    }
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
  });

  test('round2 rounds half up and never returns -0', () => {
    expect(round2(1.005)).toBe(1.01);
    expect(round2(2.675)).toBe(2.68);
    expect(round2(-0.001)).toBe(0);
    expect(Object.is(round2(-0), 0)).toBe(true);
    expect(round2(-1.005)).toBe(-1.01);
  });
});
