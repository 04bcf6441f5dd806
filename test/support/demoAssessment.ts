import { v5 as uuidv5 } from 'uuid';
import { demoAnswer, type DemoAnswerOptions } from '../../services/cli/demoAnswers';
import { DEMO_NAMESPACE, demoCatalogFile, demoId, loadDemoCatalog } from '../../services/cli/demoCatalog';
import { createCommandClient } from '../../services/messaging/commandClient';
import { MessageCodec } from '../../services/messaging/messageCodec';
import { startAssessment } from './catalogFixture';
import { eventually } from './platform';
import type { TestSystem } from './system';

/**
 * The demo catalog (services/cli/demo/catalog.json) in a test system, and assessments of its
 * roles answered by services/cli/demoAnswers.ts.
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
  const raw = demoCatalogFile();
  return {
    roles: raw.roles.map((r) => ({
      slug: r.slug,
      role_id: demoId('role', r.slug, namespace),
      name: r.name,
      skills: (r.skills_profile as { skill: string }[]).map((s) => s.skill),
      questions: r.questions.map((q) => ({
        ...(q as DemoQuestion),
        question_id: demoId('question', q.slug, namespace),
      })),
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

/** Valid answers to every question of a demo role (services/cli/demoAnswers.ts). */
export function demoAnswers(role: DemoRole, options: DemoAnswerOptions = {}) {
  return role.questions.map((q) => ({ question_id: q.question_id, answer: demoAnswer(q, options) }));
}

/** Starts an assessment of a demo role as the student holding `token`, answers everything and submits it. */
export async function submitDemoAssessment(
  sys: TestSystem,
  token: string,
  role: DemoRole,
  options: DemoAnswerOptions = {},
): Promise<string> {
  const id = await startAssessment(sys, token, role.role_id);
  const res = await sys.request('POST', `/api/v1/assessments/${id}/responses`, {
    token,
    body: { completed: true, responses: demoAnswers(role, options) },
  });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return id;
}
