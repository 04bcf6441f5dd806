import { readFileSync } from 'node:fs';
import { v5 as uuidv5 } from 'uuid';
import { DEMO_NAMESPACE, demoId, loadDemoCatalog } from '../../services/cli/demoCatalog';
import { createCommandClient } from '../../services/messaging/commandClient';
import { MessageCodec } from '../../services/messaging/messageCodec';
import { repoPath } from '../../services/platform/paths';
import { startAssessment } from './catalogFixture';
import { eventually } from './platform';
import type { TestSystem } from './system';

/**
 * The demo catalog (services/cli/demo/catalog.json) in a test system, and valid answers to a
 * demo role's questions generated from their rubrics: a student strong in every skill but the
 * `weak` ones (multiple-choice questions answered right unless `wrongChoices`, profile answers
 * listing the role's expected skills minus the weak ones, essays written from the rubric's
 * criteria).
 */
interface DemoQuestion {
  slug: string;
  question_type: 'multiple_choice' | 'profile' | 'essay';
  prompt: string;
  choices: string[] | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rubric: any;
  required: boolean;
}

export interface DemoRole {
  slug: string;
  role_id: string;
  name: string;
  skills: string[];
  questions: (DemoQuestion & { question_id: string })[];
}

export interface DemoCredential {
  credential_id: string;
  title: string;
  description: string;
  skills: string[];
}

/** The demo catalog's namespace in a test system: its own copy, per topic prefix. */
export function demoNamespaceOf(sys: TestSystem): string {
  return uuidv5(sys.config.KAFKA_TOPIC_PREFIX, DEMO_NAMESPACE);
}

/** The demo catalog as loaded in `namespace` (see `loadDemo`). */
export function demoCatalog(namespace: string): { roles: DemoRole[]; credentials: DemoCredential[] } {
  const raw = JSON.parse(readFileSync(repoPath('services', 'cli', 'demo', 'catalog.json'), 'utf8')) as {
    roles: { slug: string; name: string; skills_profile: { skill: string }[]; questions: DemoQuestion[] }[];
    credentials: { slug: string; title: string; description: string; skills: string[] }[];
  };
  return {
    roles: raw.roles.map((r) => ({
      slug: r.slug,
      role_id: demoId('role', r.slug, namespace),
      name: r.name,
      skills: r.skills_profile.map((s) => s.skill),
      questions: r.questions.map((q) => ({ ...q, question_id: demoId('question', q.slug, namespace) })),
    })),
    credentials: raw.credentials.map((c) => ({
      credential_id: demoId('credential', c.slug, namespace),
      title: c.title,
      description: c.description,
      skills: c.skills,
    })),
  };
}

/**
 * Loads the demo catalog into the system through its catalog decider (as `npm start` does), in
 * the system's own namespace, and returns it as loaded.
 */
export async function loadDemo(sys: TestSystem): Promise<ReturnType<typeof demoCatalog>> {
  const { platform } = sys.running;
  const client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'demo-loader');
  try {
    await loadDemoCatalog(client.bus, platform.logger, { namespace: demoNamespaceOf(sys) });
  } finally {
    await client.stop();
  }
  return demoCatalog(demoNamespaceOf(sys));
}

/** Waits until the search projection has indexed every active demo credential. */
export async function searchIndexed(sys: TestSystem, credentials: number, timeoutMs = 120_000): Promise<void> {
  const es = sys.running.platform.elasticsearch;
  const alias = `${sys.config.KAFKA_TOPIC_PREFIX.toLowerCase()}-credentials`;
  await eventually(
    async () => {
      const res = await es.count({ index: alias }, { ignore: [404] }).catch(() => undefined);
      return res && res.count >= credentials ? true : undefined;
    },
    timeoutMs,
    `the search projection to index ${credentials} credentials`,
  );
}

function profileAnswer(q: DemoQuestion, weak: ReadonlySet<string>): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  for (const rule of q.rubric.rules as {
    type: string;
    field?: string;
    expected?: { skill: string }[];
    bands?: { min: number }[];
    terms?: { term: string }[];
  }[]) {
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
  for (const rule of q.rubric.rules as { type: string; fields?: string[] }[]) {
    for (const field of rule.type === 'required' ? (rule.fields ?? []) : []) answer[field] ??= 'Yes';
  }
  return answer;
}

function essayAnswer(q: DemoQuestion): string {
  const criteria = (q.rubric.criteria as { description: string }[]).map((c) => c.description);
  const sentences = [
    'Here is how I would approach it, step by step.',
    ...criteria.map((d) => `I would make sure of this: ${d.charAt(0).toLowerCase()}${d.slice(1)}`),
    'Finally, I would write down what I found and share it with the team, with the caveats.',
  ];
  const minWords = (q.rubric.min_words as number | undefined) ?? 0;
  const words = () => sentences.join(' ').split(/\s+/).length;
  for (let i = 1; words() < minWords; i++)
    sentences.push(`I would then check the result again (${i}) before acting on it.`);
  return sentences.join(' ');
}

/** Valid answers to every question of a demo role (see the module comment). */
export function demoAnswers(role: DemoRole, options: { weak?: string[]; wrongChoices?: boolean } = {}) {
  const weak = new Set(options.weak ?? []);
  return role.questions.map((q) => {
    if (q.question_type === 'multiple_choice') {
      const correct = q.rubric.correct as string[];
      const choice = options.wrongChoices ? (q.choices ?? []).find((c) => !correct.includes(c))! : correct[0]!;
      return {
        question_id: q.question_id,
        answer: q.rubric.select === 'multiple' ? { selected: options.wrongChoices ? [choice] : correct } : choice,
      };
    }
    if (q.question_type === 'profile') return { question_id: q.question_id, answer: profileAnswer(q, weak) };
    return { question_id: q.question_id, answer: essayAnswer(q) };
  });
}

/** Starts an assessment of a demo role as the student holding `token`, answers everything and submits it. */
export async function submitDemoAssessment(
  sys: TestSystem,
  token: string,
  role: DemoRole,
  options: { weak?: string[]; wrongChoices?: boolean } = {},
): Promise<string> {
  const id = await startAssessment(sys, token, role.role_id);
  const res = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token,
    body: { completed: true, responses: demoAnswers(role, options) },
  });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return id;
}
