import type { ChoiceRubric, EssayRubric, ProfileRubric } from './rubric';

/**
 * The examples of RUBRICS.md, as values: the specs check that they validate and score as the
 * document says, and seed data can reuse them.
 */

/** One right answer. */
export const singleChoice: ChoiceRubric = {
  scoring: 'choice',
  select: 'single',
  correct: ['kubernetes'],
};

/** Several options to pick; credit per right pick, half a point off per wrong pick. */
export const multipleWithPenalty: ChoiceRubric = {
  scoring: 'choice',
  select: 'multiple',
  correct: ['kubernetes', 'docker', 'helm'],
  partial_credit: true,
  wrong_penalty: 0.5,
};

/** A best answer, an acceptable one, a harmless distractor and a dangerous one. */
export const weightedOptions: ChoiceRubric = {
  scoring: 'choice',
  select: 'single',
  correct: ['rolling update', 'blue-green'],
  option_weights: { 'rolling update': 1, 'blue-green': 0.75, 'delete and recreate': -0.5 },
  min_score: -0.25,
};

export const weightedOptionsChoices = ['rolling update', 'blue-green', 'ssh and restart', 'delete and recreate'];

export const choiceQuestionChoices = ['kubernetes', 'docker', 'helm', 'ftp'];

export const cloudProfile: ProfileRubric = {
  scoring: 'profile',
  rules: [
    { id: 'must-have', type: 'required', fields: ['skills', 'years_experience'], points: 0 },
    {
      id: 'core-skills',
      type: 'skills',
      field: 'skills',
      points: 4,
      match: 'proportional',
      expected: [
        { skill: 'kubernetes', synonyms: ['k8s'] },
        { skill: 'terraform', synonyms: ['tf'] },
        { skill: 'aws', synonyms: ['amazon web services'], weight: 2 },
      ],
    },
    {
      id: 'practices',
      type: 'keywords',
      field: 'summary',
      points: 2,
      terms: [{ term: 'ci/cd', synonyms: ['continuous delivery', 'continuous integration'] }, 'observability', 'sre'],
      min_matches: 2,
      partial_credit: true,
    },
    {
      id: 'experience',
      type: 'range',
      field: 'years_experience',
      points: 4,
      bands: [
        { max: 1, credit: 0, label: 'new' },
        { min: 1, max: 3, credit: 0.5, label: 'junior' },
        { min: 3, max: 6, credit: 0.8, label: 'mid' },
        { min: 6, credit: 1, label: 'senior' },
      ],
    },
  ],
};

export const essayDesign: EssayRubric = {
  scoring: 'essay',
  min_words: 50,
  max_words: 600,
  criteria: [
    {
      id: 'reasoning',
      description: 'Explains the trade-offs of the design',
      weight: 2,
      bands: [
        { score: 0, descriptor: 'No reasoning given' },
        { score: 2, descriptor: 'Names trade-offs without weighing them' },
        { score: 4, descriptor: 'Weighs trade-offs against the requirements' },
      ],
    },
    {
      id: 'clarity',
      description: 'Is clear and well organised',
      weight: 1,
      bands: [
        { score: 0, descriptor: 'Hard to follow' },
        { score: 2, descriptor: 'Clear' },
      ],
    },
  ],
};
