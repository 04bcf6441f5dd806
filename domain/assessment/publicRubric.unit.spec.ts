import { publicRubric } from './publicRubric';

describe('publicRubric', () => {
  test('a choice rubric shows how many options to pick, never which are correct', () => {
    const shown = publicRubric({
      scoring: 'choice',
      select: 'multiple',
      correct: ['a', 'b'],
      option_weights: { c: 0.5 },
      wrong_penalty: 0.5,
    });
    expect(shown).toEqual({ scoring: 'choice', select: 'multiple' });
    expect(JSON.stringify(shown)).not.toMatch(/correct|option_weights|"a"/);
  });

  test('a profile rubric lists the fields to provide, not the expected skills or bands', () => {
    const shown = publicRubric({
      scoring: 'profile',
      rules: [
        { id: 'req', type: 'required', fields: ['skills', 'years_experience'], points: 0 },
        { id: 's', type: 'skills', field: 'skills', expected: [{ skill: 'sql', synonyms: ['postgresql'] }], points: 3 },
        { id: 'y', type: 'range', field: 'years_experience', bands: [{ min: 0, credit: 1 }], points: 1 },
      ],
    });
    expect(shown).toEqual({
      scoring: 'profile',
      required_fields: ['skills', 'years_experience'],
      fields: [
        { field: 'skills', judged_on: 'skills', points: 3 },
        { field: 'years_experience', judged_on: 'range', points: 1 },
      ],
    });
    expect(JSON.stringify(shown)).not.toContain('postgresql');
  });

  test('an essay rubric is shown whole', () => {
    const rubric = {
      scoring: 'essay' as const,
      criteria: [
        {
          id: 'c',
          description: 'clear',
          weight: 1,
          bands: [
            { score: 0, descriptor: 'no' },
            { score: 1, descriptor: 'yes' },
          ],
        },
      ],
      min_words: 50,
    };
    expect(publicRubric(rubric)).toEqual(rubric);
  });
});
