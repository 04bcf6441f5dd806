import type { CredentialView, QuestionView, RoleView } from '../../../projections/catalog/queries';

/** Read-model views → the contract's Role, Question and Credential. */
export const presentRole = (r: RoleView) => ({
  role_id: r.role_id,
  name: r.name,
  description: r.description,
  skills_profile: r.skills_profile,
  active: r.active,
  question_count: r.active_questions,
});

export const presentQuestion = (q: QuestionView) => ({
  question_id: q.question_id,
  role_id: q.role_id,
  question_type: q.question_type,
  prompt: q.prompt,
  choices: q.choices,
  rubric: q.rubric,
  weight: q.weight,
  required: q.required,
  version: q.version,
  active: q.active,
});

export const presentCredential = (c: CredentialView) => ({
  credential_id: c.credential_id,
  title: c.title,
  description: c.description ?? '',
  skills: c.skills,
  ...(c.provider ? { provider: c.provider } : {}),
  ...(c.metadata ? { metadata: c.metadata } : {}),
  active: c.active,
});
