import type { Rubric } from './rubric';

/**
 * What a student may see of a rubric while answering: how the question is scored, never the
 * answer key. Choice rubrics lose their correct options and weights; profile rubrics keep the
 * fields to provide (and what each is judged on) but not the expected values; essay rubrics are
 * shown whole — knowing the criteria is part of a fair essay question.
 */
export function publicRubric(rubric: Rubric): Record<string, unknown> {
  switch (rubric.scoring) {
    case 'choice':
      return {
        scoring: 'choice',
        select: rubric.select,
        ...(rubric.description ? { description: rubric.description } : {}),
      };
    case 'profile': {
      const required = rubric.rules.flatMap((r) => (r.type === 'required' ? r.fields : []));
      const fields = rubric.rules.flatMap((r) =>
        r.type === 'required' ? [] : [{ field: r.field, judged_on: r.type, points: r.points }],
      );
      return {
        scoring: 'profile',
        required_fields: [...new Set(required)],
        fields,
        ...(rubric.description ? { description: rubric.description } : {}),
      };
    }
    case 'essay':
      return { ...rubric };
  }
}
