import { randomUUID } from 'node:crypto';
import {
  choiceQuestionChoices,
  cloudProfile,
  essayDesign,
  multipleWithPenalty,
  singleChoice,
} from '../../domain/assessment/rubricExamples';
import type { TestSystem } from './system';

export interface RoleFixture {
  roleId: string;
  mcSingle: string;
  mcMultiple: string;
  profile: string;
  essay: string;
  optional: string;
}

/**
 * A role with one question of each kind (and an optional one) and, unless `credential: false`
 * (its assessments then fail once their essays are scored: nothing to recommend), a credential
 * teaching its skills, created through the admin API.
 */
export async function createRoleWithQuestions(
  sys: TestSystem,
  options: { credential?: boolean } = {},
): Promise<RoleFixture> {
  const token = await sys.adminToken();
  const role = await sys.request('POST', '/api/v1/catalog/roles', {
    token,
    body: {
      name: `Cloud Engineer ${randomUUID().slice(0, 6)}`,
      description: 'Builds and runs cloud infrastructure',
      skills_profile: [
        { skill: 'kubernetes', level: 3, weight: 3 },
        { skill: 'terraform', level: 2, weight: 2 },
      ],
    },
  });
  if (role.status !== 201) throw new Error(`create role: ${role.status} ${JSON.stringify(role.body)}`);
  const roleId = role.body.role_id as string;
  const question = async (body: Record<string, unknown>) => {
    const res = await sys.request('POST', '/api/v1/catalog/questions', { token, body: { role_id: roleId, ...body } });
    if (res.status !== 201) throw new Error(`create question: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.question_id as string;
  };
  const mcSingle = await question({
    question_type: 'multiple_choice',
    prompt: 'Which tool orchestrates containers across a cluster?',
    choices: choiceQuestionChoices,
    rubric: singleChoice,
    weight: 2,
  });
  const mcMultiple = await question({
    question_type: 'multiple_choice',
    prompt: 'Which of these are part of the container ecosystem?',
    choices: choiceQuestionChoices,
    rubric: multipleWithPenalty,
    weight: 3,
  });
  const profile = await question({
    question_type: 'profile',
    prompt: 'Tell us about yourself: skills (list), years_experience (number) and a short summary.',
    choices: null,
    rubric: cloudProfile,
    weight: 4,
  });
  const essay = await question({
    question_type: 'essay',
    prompt: 'Describe how you would roll out a risky change to a production cluster.',
    choices: null,
    rubric: essayDesign,
    weight: 5,
  });
  const optional = await question({
    question_type: 'multiple_choice',
    prompt: 'Optional: which tool templates Kubernetes manifests?',
    choices: choiceQuestionChoices,
    rubric: { scoring: 'choice', select: 'single', correct: ['helm'] },
    weight: 1,
    required: false,
  });
  // A credential teaching the role's skills, so that its assessments can be recommended and complete.
  if (options.credential === false) return { roleId, mcSingle, mcMultiple, profile, essay, optional };
  const credential = await sys.request('POST', '/api/v1/catalog/credentials', {
    token,
    body: {
      title: `Cloud Native Operations ${randomUUID().slice(0, 6)}`,
      description:
        'Runs production workloads on Kubernetes: rolling updates, readiness probes and rollbacks. Provisions the infrastructure with Terraform modules and reviews plans before applying them.',
      skills: ['kubernetes', 'terraform'],
      provider: 'Fixture Academy',
    },
  });
  if (credential.status !== 201)
    throw new Error(`create credential: ${credential.status} ${JSON.stringify(credential.body)}`);
  return { roleId, mcSingle, mcMultiple, profile, essay, optional };
}

/** Starts an assessment of `roleId` as the student holding `token`; fails the test unless 201. */
export async function startAssessment(sys: TestSystem, token: string, roleId: string): Promise<string> {
  const res = await sys.request('POST', '/api/v1/assessments/start', { token, body: { role_id: roleId } });
  if (res.status !== 201) {
    throw new Error(`start expected 201, got ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body.assessment_id as string;
}

export const essayAnswer = Array.from(
  { length: 12 },
  () => 'I would use a rolling update with readiness probes, watch the error budget, and roll back on alerts.',
).join(' ');

/** Valid answers to every required question of the fixture role (the essay's text given). */
export function allRequiredAnswers(role: RoleFixture, essay: string = essayAnswer) {
  return [
    { question_id: role.mcSingle, answer: 'kubernetes' },
    { question_id: role.mcMultiple, answer: { selected: ['kubernetes', 'docker'] } },
    { question_id: role.profile, answer: { skills: ['Terraform'], years_experience: 2, summary: 'SRE' } },
    { question_id: role.essay, answer: essay },
  ];
}

/** A role whose one skill no credential teaches: its assessments fail (after the job's attempts). */
export async function roleNobodyTeaches(sys: TestSystem): Promise<{ roleId: string; questionId: string }> {
  const admin = await sys.adminToken();
  const role = await sys.request('POST', '/api/v1/catalog/roles', {
    token: admin,
    body: {
      name: `Glassblower ${randomUUID().slice(0, 6)}`,
      description: 'A role whose skill no credential teaches',
      skills_profile: [{ skill: `glassblowing-${randomUUID()}` }],
    },
  });
  expect(role.status).toBe(201);
  const question = await sys.request('POST', '/api/v1/catalog/questions', {
    token: admin,
    body: {
      role_id: role.body.role_id,
      question_type: 'multiple_choice',
      prompt: 'Which tool orchestrates containers across a cluster?',
      choices: choiceQuestionChoices,
      rubric: singleChoice,
      weight: 1,
    },
  });
  expect(question.status).toBe(201);
  return { roleId: role.body.role_id, questionId: question.body.question_id };
}
