/**
 * Valid answers to a demo role's questions, generated from their rubrics (the demo catalog
 * holds the answer keys): a student strong in every skill but the `weak` ones.
 * - multiple choice: the correct option (a wrong one with `wrongChoices`);
 * - profile: the rubric's expected skills minus the weak ones, a number in the top band, and a
 *   text naming the keyword rule's terms;
 * - essay: one sentence per rubric criterion, padded to the rubric's minimum length.
 * For the demo CLI command and the tests; not a model of real students.
 */
export interface DemoQuestionDefinition {
  question_type: 'multiple_choice' | 'profile' | 'essay' | string;
  choices: string[] | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rubric: any;
}

export interface DemoAnswerOptions {
  weak?: readonly string[];
  wrongChoices?: boolean;
}

interface ProfileRule {
  type: string;
  field?: string;
  fields?: string[];
  expected?: { skill: string }[];
  bands?: { min: number }[];
  terms?: { term: string }[];
}

function profileAnswer(q: DemoQuestionDefinition, weak: ReadonlySet<string>): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  const rules = q.rubric.rules as ProfileRule[];
  for (const rule of rules) {
    if (!rule.field) continue;
    if (rule.type === 'skills') {
      const listed = (rule.expected ?? []).map((e) => e.skill).filter((s) => !weak.has(s));
      answer[rule.field] = listed.length > 0 ? listed : [(rule.expected ?? [])[0]?.skill ?? 'none'];
    } else if (rule.type === 'range') {
      answer[rule.field] = Math.max(1, ...(rule.bands ?? []).map((b) => b.min));
    } else if (rule.type === 'keywords') {
      const terms = (rule.terms ?? []).map((t) => t.term);
      answer[rule.field] =
        `I built a ${terms.join(' and a ')} for the team, and presented what I found to the people who used it.`;
    } else {
      answer[rule.field] = 'Yes';
    }
  }
  for (const rule of rules) {
    for (const field of rule.type === 'required' ? (rule.fields ?? []) : []) answer[field] ??= 'Yes';
  }
  return answer;
}

function essayAnswer(q: DemoQuestionDefinition): string {
  const criteria = (q.rubric.criteria as { description: string }[]).map((c) => c.description);
  const sentences = [
    'Here is how I would approach it, step by step.',
    ...criteria.map((d) => `I would make sure of this: ${d.charAt(0).toLowerCase()}${d.slice(1)}`),
    'Finally, I would write down what I found and share it with the team, with the caveats.',
  ];
  const minWords = (q.rubric.min_words as number | undefined) ?? 0;
  const words = () => sentences.join(' ').split(/\s+/).length;
  for (let i = 1; words() < minWords; i++) {
    sentences.push(`I would then check the result again (${i}) before acting on it.`);
  }
  return sentences.join(' ');
}

export function demoAnswer(q: DemoQuestionDefinition, options: DemoAnswerOptions = {}): unknown {
  if (q.question_type === 'multiple_choice') {
    const correct = q.rubric.correct as string[];
    const choice = options.wrongChoices ? (q.choices ?? []).find((c) => !correct.includes(c))! : correct[0]!;
    return q.rubric.select === 'multiple' ? { selected: options.wrongChoices ? [choice] : correct } : choice;
  }
  if (q.question_type === 'profile') return profileAnswer(q, new Set(options.weak ?? []));
  return essayAnswer(q);
}
