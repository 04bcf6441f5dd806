import type { QuestionDefinition } from '../assessment/questionDefinition';
import { validateQuestionDefinition } from '../assessment/questionDefinition';
import type { QuestionType } from '../assessment/rubric';
import type { Command, Decider } from '../shared/decider';
import { domainError } from '../shared/errors';
import type { JsonObject } from '../shared/json';
import { isPlainObject } from '../shared/json';
import {
  codePointLength,
  controlCharacterProblem,
  describe,
  optionalJsonObject,
  optionalText,
  requireAdmin,
  requireInstant,
  requireText,
  requireUuid,
} from '../shared/validation';
import type { CredentialDefinition, CredentialEvent, CredentialState } from './credential';
import { credentialAggregateType, credentialEventTypes, evolveCredential, initialCredentialState } from './credential';
import type { KnowledgeDocumentDefinition, KnowledgeDocumentEvent, KnowledgeDocumentState } from './knowledgeDocument';
import {
  documentTextProblem,
  evolveKnowledgeDocument,
  initialKnowledgeDocumentState,
  knowledgeDocumentAggregateType,
  knowledgeDocumentEventTypes,
  MAX_DOCUMENT_TITLE,
  sourceUriProblem,
} from './knowledgeDocument';
import type { QuestionEvent, QuestionState } from './question';
import { evolveQuestion, initialQuestionState, questionAggregateType, questionEventTypes } from './question';
import type { RoleDefinition, RoleEvent, RoleState, SkillRequirement } from './role';
import { evolveRole, initialRoleState, roleAggregateType, roleEventTypes } from './role';

/**
 * Catalog commands. Only an admin (or the system) may change the catalog. Revisions are
 * partial: fields left out (or null) keep their current value, and the event carries the
 * complete definition after the change.
 */

// --- Roles -------------------------------------------------------------------------------------

export type CreateRole = Command<
  'CreateRole',
  { role_id: string; name: string; description?: string | null; skills_profile: SkillRequirement[] }
>;
export type ReviseRole = Command<
  'ReviseRole',
  { role_id: string; name?: string | null; description?: string | null; skills_profile?: SkillRequirement[] | null }
>;
export type RetireRole = Command<'RetireRole', { role_id: string; reason?: string | null }>;
export type RoleCommand = CreateRole | ReviseRole | RetireRole;

// --- Questions ---------------------------------------------------------------------------------

export type CreateQuestion = Command<
  'CreateQuestion',
  {
    question_id: string;
    role_id: string;
    question_type: QuestionType;
    prompt: string;
    choices: string[] | null;
    /** A rubric in the format of domain/assessment/RUBRICS.md. */
    rubric: unknown;
    weight: number;
    required: boolean;
  }
>;
export type ReviseQuestion = Command<
  'ReviseQuestion',
  {
    question_id: string;
    /** Changing to essay or profile drops the choices. */
    question_type?: QuestionType | null;
    prompt?: string | null;
    choices?: string[] | null;
    rubric?: unknown;
    weight?: number | null;
    required?: boolean | null;
  }
>;
export type RetireQuestion = Command<'RetireQuestion', { question_id: string; reason?: string | null }>;
/** Human-scored examples for an essay question (all or nothing). */
export type ImportScoredExamples = Command<
  'ImportScoredExamples',
  { question_id: string; import_id: string; examples: { text: string; score: number }[] }
>;
export type QuestionCommand = CreateQuestion | ReviseQuestion | RetireQuestion | ImportScoredExamples;

// --- Credentials -------------------------------------------------------------------------------

export type CreateCredential = Command<
  'CreateCredential',
  {
    credential_id: string;
    title: string;
    description?: string | null;
    skills: string[];
    provider?: string | null;
    metadata?: JsonObject | null;
  }
>;
export type ReviseCredential = Command<
  'ReviseCredential',
  {
    credential_id: string;
    title?: string | null;
    description?: string | null;
    skills?: string[] | null;
    provider?: string | null;
    metadata?: JsonObject | null;
  }
>;
export type RetireCredential = Command<'RetireCredential', { credential_id: string; reason?: string | null }>;
export type CredentialCommand = CreateCredential | ReviseCredential | RetireCredential;

// --- Knowledge documents -----------------------------------------------------------------------

export type AddKnowledgeDocument = Command<
  'AddKnowledgeDocument',
  { document_id: string; title: string; source_uri: string; text: string }
>;
export type ReviseKnowledgeDocument = Command<
  'ReviseKnowledgeDocument',
  { document_id: string; title?: string | null; source_uri?: string | null; text?: string | null }
>;
export type RetireKnowledgeDocument = Command<
  'RetireKnowledgeDocument',
  { document_id: string; reason?: string | null }
>;
export type KnowledgeDocumentCommand = AddKnowledgeDocument | ReviseKnowledgeDocument | RetireKnowledgeDocument;

export type CatalogCommand = RoleCommand | QuestionCommand | CredentialCommand | KnowledgeDocumentCommand;
export type CatalogEvent = RoleEvent | QuestionEvent | CredentialEvent | KnowledgeDocumentEvent;

const roleCommandSet: Record<RoleCommand['type'], true> = { CreateRole: true, ReviseRole: true, RetireRole: true };
const questionCommandSet: Record<QuestionCommand['type'], true> = {
  CreateQuestion: true,
  ReviseQuestion: true,
  RetireQuestion: true,
  ImportScoredExamples: true,
};
const credentialCommandSet: Record<CredentialCommand['type'], true> = {
  CreateCredential: true,
  ReviseCredential: true,
  RetireCredential: true,
};
const knowledgeDocumentCommandSet: Record<KnowledgeDocumentCommand['type'], true> = {
  AddKnowledgeDocument: true,
  ReviseKnowledgeDocument: true,
  RetireKnowledgeDocument: true,
};
export const roleCommandTypes = Object.keys(roleCommandSet) as RoleCommand['type'][];
export const questionCommandTypes = Object.keys(questionCommandSet) as QuestionCommand['type'][];
export const credentialCommandTypes = Object.keys(credentialCommandSet) as CredentialCommand['type'][];
export const knowledgeDocumentCommandTypes = Object.keys(
  knowledgeDocumentCommandSet,
) as KnowledgeDocumentCommand['type'][];
export const catalogCommandTypes: CatalogCommand['type'][] = [
  ...roleCommandTypes,
  ...questionCommandTypes,
  ...credentialCommandTypes,
  ...knowledgeDocumentCommandTypes,
];
export const catalogEventTypes: CatalogEvent['type'][] = [
  ...roleEventTypes,
  ...questionEventTypes,
  ...credentialEventTypes,
  ...knowledgeDocumentEventTypes,
];

export type CatalogAggregateType =
  | typeof roleAggregateType
  | typeof questionAggregateType
  | typeof credentialAggregateType
  | typeof knowledgeDocumentAggregateType;

const isRoleType = (type: string): boolean => type in roleCommandSet || (roleEventTypes as string[]).includes(type);
const isQuestionType = (type: string): boolean =>
  type in questionCommandSet || (questionEventTypes as string[]).includes(type);
const isKnowledgeDocumentType = (type: string): boolean =>
  type in knowledgeDocumentCommandSet || (knowledgeDocumentEventTypes as string[]).includes(type);

/** `role`, `question`, `credential` or `knowledge_document`: the catalog holds four kinds of aggregate. */
export function aggregateTypeOf(message: CatalogCommand | CatalogEvent): CatalogAggregateType {
  if (isRoleType(message.type)) return roleAggregateType;
  if (isQuestionType(message.type)) return questionAggregateType;
  if (isKnowledgeDocumentType(message.type)) return knowledgeDocumentAggregateType;
  return credentialAggregateType;
}

export function aggregateIdOf(command: CatalogCommand): string {
  switch (command.type) {
    case 'CreateRole':
    case 'ReviseRole':
    case 'RetireRole':
      return command.data.role_id;
    case 'CreateQuestion':
    case 'ReviseQuestion':
    case 'RetireQuestion':
    case 'ImportScoredExamples':
      return command.data.question_id;
    case 'CreateCredential':
    case 'ReviseCredential':
    case 'RetireCredential':
      return command.data.credential_id;
    case 'AddKnowledgeDocument':
    case 'ReviseKnowledgeDocument':
    case 'RetireKnowledgeDocument':
      return command.data.document_id;
    default: {
      const unknown: never = command;
      throw domainError('INVALID_COMMAND', `Unknown catalog command ${describe((unknown as { type: unknown }).type)}.`);
    }
  }
}

// --- Role decisions ----------------------------------------------------------------------------

const MAX_ROLE_NAME = 64;
/** As many skills as the API contract takes (`maxItems`). */
const MAX_PROFILE_SKILLS = 50;
const MAX_DESCRIPTION = 5000;

function validateSkillsProfile(value: unknown): SkillRequirement[] {
  const fail = (message: string): never => {
    throw domainError('INVALID_ROLE', `skills_profile ${message}`, { field: 'skills_profile' });
  };
  if (!Array.isArray(value) || value.length === 0) {
    return fail('must be a non-empty list of {"skill", "level"?, "weight"?}.');
  }
  if (value.length > MAX_PROFILE_SKILLS)
    return fail(`must list at most ${MAX_PROFILE_SKILLS} skills (got ${value.length}).`);
  const seen = new Set<string>();
  return value.map((entry, i): SkillRequirement => {
    if (!isPlainObject(entry)) return fail(`[${i}] must be an object {"skill", "level"?, "weight"?}.`);
    const unknownKey = Object.keys(entry).find((k) => !['skill', 'level', 'weight'].includes(k));
    if (unknownKey !== undefined)
      return fail(`[${i}].${unknownKey} is not a known key (allowed: skill, level, weight).`);
    if (
      typeof entry.skill !== 'string' ||
      entry.skill.trim().length === 0 ||
      codePointLength(entry.skill.trim()) > 100
    ) {
      return fail(`[${i}].skill must be a skill name of 1 to 100 characters.`);
    }
    const controlProblem = controlCharacterProblem(entry.skill, `[${i}].skill`);
    if (controlProblem !== undefined) return fail(controlProblem);
    const skill = entry.skill.trim();
    if (seen.has(skill.toLowerCase())) return fail(`lists "${skill}" twice.`);
    seen.add(skill.toLowerCase());
    const requirement: SkillRequirement = { skill };
    if (entry.level !== undefined && entry.level !== null) {
      if (!Number.isInteger(entry.level) || (entry.level as number) < 1 || (entry.level as number) > 5) {
        return fail(`[${i}].level must be a whole number from 1 to 5, got ${describe(entry.level)}.`);
      }
      requirement.level = entry.level as number;
    }
    if (entry.weight !== undefined && entry.weight !== null) {
      if (typeof entry.weight !== 'number' || !Number.isFinite(entry.weight) || entry.weight <= 0) {
        return fail(`[${i}].weight must be a number above 0, got ${describe(entry.weight)}.`);
      }
      requirement.weight = entry.weight;
    }
    return requirement;
  });
}

function validateRoleDefinition(input: Record<keyof RoleDefinition, unknown>): RoleDefinition {
  return {
    name: requireText(input.name, 'name', { code: 'INVALID_ROLE', maxLength: MAX_ROLE_NAME, singleLine: true }),
    description: requireText(input.description ?? '', 'description', {
      code: 'INVALID_ROLE',
      allowEmpty: true,
      maxLength: MAX_DESCRIPTION,
    }),
    skills_profile: validateSkillsProfile(input.skills_profile),
  };
}

export function createRole(command: CreateRole, state: RoleState): RoleEvent[] {
  requireAdmin(command.metadata.actor, 'create a role');
  const roleId = requireUuid(command.data.role_id, 'role_id');
  if (state.status !== 'none') throw domainError('ROLE_ALREADY_EXISTS', `Role ${roleId} already exists.`);
  const { name, description, skills_profile } = command.data;
  const definition = validateRoleDefinition({ name, description, skills_profile });
  return [{ type: 'RoleCreated', data: { role_id: roleId, ...definition } }];
}

export function reviseRole(command: ReviseRole, state: RoleState): RoleEvent[] {
  requireAdmin(command.metadata.actor, 'revise a role');
  const roleId = requireUuid(command.data.role_id, 'role_id');
  if (state.status === 'none') throw domainError('ROLE_NOT_FOUND', `No role with id ${roleId}.`);
  if (state.status === 'retired') throw domainError('ROLE_RETIRED', `Role ${roleId} is retired and cannot be revised.`);
  const { name, description, skills_profile } = command.data;
  requireSomething({ name, description, skills_profile }, 'role');
  const definition = validateRoleDefinition({
    name: name ?? state.name,
    description: description ?? state.description,
    skills_profile: skills_profile ?? state.skills_profile,
  });
  return [{ type: 'RoleRevised', data: { role_id: roleId, ...definition } }];
}

export function retireRole(command: RetireRole, state: RoleState): RoleEvent[] {
  requireAdmin(command.metadata.actor, 'retire a role');
  const roleId = requireUuid(command.data.role_id, 'role_id');
  if (state.status === 'none') throw domainError('ROLE_NOT_FOUND', `No role with id ${roleId}.`);
  if (state.status === 'retired') throw domainError('ROLE_RETIRED', `Role ${roleId} is already retired.`);
  const reason = optionalText(command.data.reason, 'reason', { maxLength: 1000 });
  return [{ type: 'RoleRetired', data: { role_id: roleId, reason } }];
}

export function decideRole(command: RoleCommand, state: RoleState): RoleEvent[] {
  switch (command.type) {
    case 'CreateRole':
      return createRole(command, state);
    case 'ReviseRole':
      return reviseRole(command, state);
    case 'RetireRole':
      return retireRole(command, state);
    default: {
      const _unhandled: never = command;
      return unknownCommand(_unhandled);
    }
  }
}

// --- Question decisions ------------------------------------------------------------------------

const questionCodes = { question: 'INVALID_QUESTION', rubric: 'INVALID_RUBRIC' } as const;

export function createQuestion(command: CreateQuestion, state: QuestionState): QuestionEvent[] {
  requireAdmin(command.metadata.actor, 'create a question');
  const questionId = requireUuid(command.data.question_id, 'question_id');
  const roleId = requireUuid(command.data.role_id, 'role_id');
  if (state.status !== 'none') throw domainError('QUESTION_ALREADY_EXISTS', `Question ${questionId} already exists.`);
  const definition = validateQuestionDefinition(command.data, questionCodes);
  return [{ type: 'QuestionCreated', data: { question_id: questionId, role_id: roleId, version: '1', ...definition } }];
}

export function reviseQuestion(command: ReviseQuestion, state: QuestionState): QuestionEvent[] {
  requireAdmin(command.metadata.actor, 'revise a question');
  const questionId = requireUuid(command.data.question_id, 'question_id');
  if (state.status === 'none') throw domainError('QUESTION_NOT_FOUND', `No question with id ${questionId}.`);
  if (state.status === 'retired') {
    throw domainError('QUESTION_RETIRED', `Question ${questionId} is retired and cannot be revised.`);
  }
  const { question_type, prompt, choices, rubric, weight, required } = command.data;
  requireSomething({ question_type, prompt, choices, rubric, weight, required }, 'question');
  const type = question_type ?? state.question_type;
  const nextChoices = choices ?? (type === 'multiple_choice' ? state.choices : null);
  const merged: Record<keyof QuestionDefinition, unknown> = {
    question_type: type,
    prompt: prompt ?? state.prompt,
    choices: nextChoices,
    rubric: rubric ?? state.rubric,
    weight: weight ?? state.weight,
    required: required ?? state.required,
  };
  const definition = validateQuestionDefinition(merged, questionCodes);
  const version = String(Number(state.version) + 1);
  return [
    { type: 'QuestionRevised', data: { question_id: questionId, role_id: state.role_id, version, ...definition } },
  ];
}

export function retireQuestion(command: RetireQuestion, state: QuestionState): QuestionEvent[] {
  requireAdmin(command.metadata.actor, 'retire a question');
  const questionId = requireUuid(command.data.question_id, 'question_id');
  if (state.status === 'none') throw domainError('QUESTION_NOT_FOUND', `No question with id ${questionId}.`);
  if (state.status === 'retired') throw domainError('QUESTION_RETIRED', `Question ${questionId} is already retired.`);
  const reason = optionalText(command.data.reason, 'reason', { maxLength: 1000 });
  return [{ type: 'QuestionRetired', data: { question_id: questionId, version: state.version, reason } }];
}

/** Bounds that keep one import within one Kafka record (about 1 MB). */
export const MAX_SCORED_EXAMPLES = 2000;
export const MAX_EXAMPLE_TEXT = 5000;
export const MAX_EXAMPLES_TEXT_TOTAL = 700_000;

export function importScoredExamples(command: ImportScoredExamples, state: QuestionState): QuestionEvent[] {
  requireAdmin(command.metadata.actor, 'import scored examples');
  const questionId = requireUuid(command.data.question_id, 'question_id');
  const importId = requireUuid(command.data.import_id, 'import_id');
  if (state.status === 'none') throw domainError('QUESTION_NOT_FOUND', `No question with id ${questionId}.`);
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw domainError('INVALID_SCORED_EXAMPLES', message, details);
  };
  if (state.question_type !== 'essay') {
    fail(`Question ${questionId} is a ${state.question_type} question; scored examples are for essay questions.`);
  }
  const examples = command.data.examples;
  if (!Array.isArray(examples) || examples.length === 0) fail('examples must be a non-empty list of {text, score}.');
  if (examples.length > MAX_SCORED_EXAMPLES) {
    fail(`At most ${MAX_SCORED_EXAMPLES} examples per import (got ${examples.length}); split the file.`);
  }
  let total = 0;
  const clean = examples.map((example, i) => {
    const text = isPlainObject(example) ? example.text : undefined;
    const score = isPlainObject(example) ? example.score : undefined;
    if (typeof text !== 'string' || text.trim().length === 0) {
      return fail(`examples[${i}].text must be a non-empty string.`, { index: i });
    }
    if (codePointLength(text) > MAX_EXAMPLE_TEXT) {
      return fail(`examples[${i}].text must be at most ${MAX_EXAMPLE_TEXT} characters.`, { index: i });
    }
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > state.weight) {
      return fail(`examples[${i}].score must be a number from 0 to ${state.weight} (the question's weight).`, {
        index: i,
      });
    }
    total += text.length;
    return { text: text.trim(), score };
  });
  if (total > MAX_EXAMPLES_TEXT_TOTAL) {
    fail(`The examples hold ${total} characters of text; at most ${MAX_EXAMPLES_TEXT_TOTAL} per import.`);
  }
  return [
    {
      type: 'ScoredExamplesImported',
      data: {
        question_id: questionId,
        question_version: state.version,
        import_id: importId,
        examples: clean,
        imported_at: requireInstant(command.metadata.now, 'metadata.now'),
      },
    },
  ];
}

export function decideQuestion(command: QuestionCommand, state: QuestionState): QuestionEvent[] {
  switch (command.type) {
    case 'CreateQuestion':
      return createQuestion(command, state);
    case 'ReviseQuestion':
      return reviseQuestion(command, state);
    case 'RetireQuestion':
      return retireQuestion(command, state);
    case 'ImportScoredExamples':
      return importScoredExamples(command, state);
    default: {
      const _unhandled: never = command;
      return unknownCommand(_unhandled);
    }
  }
}

// --- Credential decisions ----------------------------------------------------------------------

const MAX_TITLE = 300;
/** As many skills as the API contract takes (`maxItems`). */
const MAX_SKILLS = 50;

function validateCredentialDefinition(input: Record<keyof CredentialDefinition, unknown>): CredentialDefinition {
  const title = requireText(input.title, 'title', {
    code: 'INVALID_CREDENTIAL',
    maxLength: MAX_TITLE,
    singleLine: true,
  });
  const description = requireText(input.description ?? '', 'description', {
    code: 'INVALID_CREDENTIAL',
    allowEmpty: true,
    maxLength: MAX_DESCRIPTION,
  });
  const skillsValue = input.skills;
  if (
    !Array.isArray(skillsValue) ||
    skillsValue.length === 0 ||
    skillsValue.length > MAX_SKILLS ||
    !skillsValue.every(
      (s): s is string => typeof s === 'string' && s.trim().length > 0 && codePointLength(s.trim()) <= 100,
    )
  ) {
    throw domainError(
      'INVALID_CREDENTIAL',
      `skills must be a list of 1 to ${MAX_SKILLS} skill names (each 1 to 100 characters).`,
      { field: 'skills' },
    );
  }
  const controlProblem = skillsValue
    .map((s, i) => controlCharacterProblem(s, `skills[${i}]`))
    .find((p) => p !== undefined);
  if (controlProblem !== undefined) {
    throw domainError('INVALID_CREDENTIAL', controlProblem, { field: 'skills', problem: 'control_character' });
  }
  const skills = skillsValue.map((s) => s.trim());
  const lower = skills.map((s) => s.toLowerCase());
  const repeated = skills.find((_s, i) => lower.indexOf(lower[i]!) !== i);
  if (repeated !== undefined) {
    throw domainError('INVALID_CREDENTIAL', `skills lists "${repeated}" twice.`, { field: 'skills' });
  }
  return {
    title,
    description,
    skills,
    provider: optionalText(input.provider, 'provider', { code: 'INVALID_CREDENTIAL', maxLength: 200 }),
    metadata: optionalJsonObject(input.metadata, 'metadata', 'INVALID_CREDENTIAL'),
  };
}

export function createCredential(command: CreateCredential, state: CredentialState): CredentialEvent[] {
  requireAdmin(command.metadata.actor, 'create a credential');
  const credentialId = requireUuid(command.data.credential_id, 'credential_id');
  if (state.status !== 'none') {
    throw domainError('CREDENTIAL_ALREADY_EXISTS', `Credential ${credentialId} already exists.`);
  }
  const definition = validateCredentialDefinition({
    title: command.data.title,
    description: command.data.description,
    skills: command.data.skills,
    provider: command.data.provider,
    metadata: command.data.metadata,
  });
  return [{ type: 'CredentialCreated', data: { credential_id: credentialId, ...definition } }];
}

export function reviseCredential(command: ReviseCredential, state: CredentialState): CredentialEvent[] {
  requireAdmin(command.metadata.actor, 'revise a credential');
  const credentialId = requireUuid(command.data.credential_id, 'credential_id');
  if (state.status === 'none') throw domainError('CREDENTIAL_NOT_FOUND', `No credential with id ${credentialId}.`);
  if (state.status === 'retired') {
    throw domainError('CREDENTIAL_RETIRED', `Credential ${credentialId} is retired and cannot be revised.`);
  }
  const { title, description, skills, provider, metadata } = command.data;
  requireSomething({ title, description, skills, provider, metadata }, 'credential');
  const definition = validateCredentialDefinition({
    title: title ?? state.title,
    description: description ?? state.description,
    skills: skills ?? state.skills,
    provider: provider ?? state.provider,
    metadata: metadata ?? state.metadata,
  });
  return [{ type: 'CredentialRevised', data: { credential_id: credentialId, ...definition } }];
}

export function retireCredential(command: RetireCredential, state: CredentialState): CredentialEvent[] {
  requireAdmin(command.metadata.actor, 'retire a credential');
  const credentialId = requireUuid(command.data.credential_id, 'credential_id');
  if (state.status === 'none') throw domainError('CREDENTIAL_NOT_FOUND', `No credential with id ${credentialId}.`);
  if (state.status === 'retired') {
    throw domainError('CREDENTIAL_RETIRED', `Credential ${credentialId} is already retired.`);
  }
  const reason = optionalText(command.data.reason, 'reason', { maxLength: 1000 });
  return [{ type: 'CredentialRetired', data: { credential_id: credentialId, reason } }];
}

export function decideCredential(command: CredentialCommand, state: CredentialState): CredentialEvent[] {
  switch (command.type) {
    case 'CreateCredential':
      return createCredential(command, state);
    case 'ReviseCredential':
      return reviseCredential(command, state);
    case 'RetireCredential':
      return retireCredential(command, state);
    default: {
      const _unhandled: never = command;
      return unknownCommand(_unhandled);
    }
  }
}

// --- Knowledge document decisions --------------------------------------------------------------

const INVALID_DOCUMENT = 'INVALID_DOCUMENT';

function validateDocumentDefinition(
  input: Record<keyof KnowledgeDocumentDefinition, unknown>,
): KnowledgeDocumentDefinition {
  const title = requireText(input.title, 'title', { code: INVALID_DOCUMENT, maxLength: MAX_DOCUMENT_TITLE });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F]/.test(title)) {
    throw domainError(INVALID_DOCUMENT, 'title must be one line of text, without control characters.', {
      field: 'title',
    });
  }
  const sourceUri = requireText(input.source_uri, 'source_uri', { code: INVALID_DOCUMENT });
  const uriProblem = sourceUriProblem(sourceUri);
  if (uriProblem !== undefined) throw domainError(INVALID_DOCUMENT, uriProblem, { field: 'source_uri' });
  const text = input.text;
  if (typeof text !== 'string') {
    throw domainError(INVALID_DOCUMENT, `text must be a string, got ${describe(text)}.`, { field: 'text' });
  }
  const textProblem = documentTextProblem(text);
  if (textProblem !== undefined) throw domainError(INVALID_DOCUMENT, textProblem, { field: 'text' });
  // The text is kept exactly as given: passages quote it by offsets.
  return { title, source_uri: sourceUri, text };
}

export function addKnowledgeDocument(
  command: AddKnowledgeDocument,
  state: KnowledgeDocumentState,
): KnowledgeDocumentEvent[] {
  requireAdmin(command.metadata.actor, 'add a knowledge document');
  const documentId = requireUuid(command.data.document_id, 'document_id');
  if (state.status !== 'none') throw domainError('DOCUMENT_ALREADY_EXISTS', `Document ${documentId} already exists.`);
  const { title, source_uri, text } = command.data;
  const definition = validateDocumentDefinition({ title, source_uri, text });
  return [{ type: 'KnowledgeDocumentAdded', data: { document_id: documentId, version: '1', ...definition } }];
}

export function reviseKnowledgeDocument(
  command: ReviseKnowledgeDocument,
  state: KnowledgeDocumentState,
): KnowledgeDocumentEvent[] {
  requireAdmin(command.metadata.actor, 'revise a knowledge document');
  const documentId = requireUuid(command.data.document_id, 'document_id');
  if (state.status === 'none') throw domainError('DOCUMENT_NOT_FOUND', `No document with id ${documentId}.`);
  if (state.status === 'retired') {
    throw domainError('DOCUMENT_RETIRED', `Document ${documentId} is retired and cannot be revised.`);
  }
  const { title, source_uri, text } = command.data;
  requireSomething({ title, source_uri, text }, 'document');
  const definition = validateDocumentDefinition({
    title: title ?? state.title,
    source_uri: source_uri ?? state.source_uri,
    text: text ?? state.text,
  });
  const version = String(Number(state.version) + 1);
  return [{ type: 'KnowledgeDocumentRevised', data: { document_id: documentId, version, ...definition } }];
}

export function retireKnowledgeDocument(
  command: RetireKnowledgeDocument,
  state: KnowledgeDocumentState,
): KnowledgeDocumentEvent[] {
  requireAdmin(command.metadata.actor, 'retire a knowledge document');
  const documentId = requireUuid(command.data.document_id, 'document_id');
  if (state.status === 'none') throw domainError('DOCUMENT_NOT_FOUND', `No document with id ${documentId}.`);
  if (state.status === 'retired') throw domainError('DOCUMENT_RETIRED', `Document ${documentId} is already retired.`);
  const reason = optionalText(command.data.reason, 'reason', { code: INVALID_DOCUMENT, maxLength: 1000 });
  return [{ type: 'KnowledgeDocumentRetired', data: { document_id: documentId, version: state.version, reason } }];
}

export function decideKnowledgeDocument(
  command: KnowledgeDocumentCommand,
  state: KnowledgeDocumentState,
): KnowledgeDocumentEvent[] {
  switch (command.type) {
    case 'AddKnowledgeDocument':
      return addKnowledgeDocument(command, state);
    case 'ReviseKnowledgeDocument':
      return reviseKnowledgeDocument(command, state);
    case 'RetireKnowledgeDocument':
      return retireKnowledgeDocument(command, state);
    default: {
      const _unhandled: never = command;
      return unknownCommand(_unhandled);
    }
  }
}

// --- The catalog as one decider ----------------------------------------------------------------

/**
 * One decider for the whole catalog context (one commands topic, one events topic). A stream
 * holds one aggregate; its kind follows from the first event. The sub-states let each
 * aggregate's rules stay in their own functions.
 */
export interface CatalogState {
  role: RoleState;
  question: QuestionState;
  credential: CredentialState;
  knowledge_document: KnowledgeDocumentState;
}

export const initialCatalogState = (): CatalogState => ({
  role: initialRoleState(),
  question: initialQuestionState(),
  credential: initialCredentialState(),
  knowledge_document: initialKnowledgeDocumentState(),
});

/**
 * The document sub-state; `none` in a state from before documents existed (a decider snapshot
 * taken then holds only role, question and credential).
 */
const documentStateOf = (state: CatalogState): KnowledgeDocumentState =>
  (state.knowledge_document as KnowledgeDocumentState | undefined) ?? initialKnowledgeDocumentState();

export function evolveCatalog(state: CatalogState, event: CatalogEvent): CatalogState {
  switch (event.type) {
    case 'RoleCreated':
    case 'RoleRevised':
    case 'RoleRetired':
      return { ...state, role: evolveRole(state.role, event) };
    case 'QuestionCreated':
    case 'QuestionRevised':
    case 'QuestionRetired':
    case 'ScoredExamplesImported':
      return { ...state, question: evolveQuestion(state.question, event) };
    case 'CredentialCreated':
    case 'CredentialRevised':
    case 'CredentialRetired':
      return { ...state, credential: evolveCredential(state.credential, event) };
    case 'KnowledgeDocumentAdded':
    case 'KnowledgeDocumentRevised':
    case 'KnowledgeDocumentRetired':
      return { ...state, knowledge_document: evolveKnowledgeDocument(documentStateOf(state), event) };
    default: {
      const _unhandled: never = event;
      return state;
    }
  }
}

export function decideCatalog(command: CatalogCommand, state: CatalogState): CatalogEvent[] {
  requireAdmin(command.metadata.actor, 'change the catalog');
  const target = aggregateTypeOf(command);
  const full: CatalogState = { ...state, knowledge_document: documentStateOf(state) };
  const other = (['role', 'question', 'credential', 'knowledge_document'] as const).find(
    (kind) => kind !== target && full[kind].status !== 'none',
  );
  if (other !== undefined) {
    throw domainError(
      'CATALOG_ID_IN_USE',
      `${aggregateIdOf(command)} is the id of a ${other}, not of a ${target}; use a fresh id (idFromKey('${target}', …)).`,
    );
  }
  switch (command.type) {
    case 'CreateRole':
    case 'ReviseRole':
    case 'RetireRole':
      return decideRole(command, state.role);
    case 'CreateQuestion':
    case 'ReviseQuestion':
    case 'RetireQuestion':
    case 'ImportScoredExamples':
      return decideQuestion(command, state.question);
    case 'CreateCredential':
    case 'ReviseCredential':
    case 'RetireCredential':
      return decideCredential(command, state.credential);
    case 'AddKnowledgeDocument':
    case 'ReviseKnowledgeDocument':
    case 'RetireKnowledgeDocument':
      return decideKnowledgeDocument(command, full.knowledge_document);
    default: {
      const _unhandled: never = command;
      return unknownCommand(_unhandled);
    }
  }
}

export const catalogDecider: Decider<CatalogCommand, CatalogEvent, CatalogState> = {
  initialState: initialCatalogState,
  evolve: evolveCatalog,
  decide: decideCatalog,
};

export const roleDecider: Decider<RoleCommand, RoleEvent, RoleState> = {
  initialState: initialRoleState,
  evolve: evolveRole,
  decide: decideRole,
};
export const questionDecider: Decider<QuestionCommand, QuestionEvent, QuestionState> = {
  initialState: initialQuestionState,
  evolve: evolveQuestion,
  decide: decideQuestion,
};
export const credentialDecider: Decider<CredentialCommand, CredentialEvent, CredentialState> = {
  initialState: initialCredentialState,
  evolve: evolveCredential,
  decide: decideCredential,
};
export const knowledgeDocumentDecider: Decider<
  KnowledgeDocumentCommand,
  KnowledgeDocumentEvent,
  KnowledgeDocumentState
> = {
  initialState: initialKnowledgeDocumentState,
  evolve: evolveKnowledgeDocument,
  decide: decideKnowledgeDocument,
};

// --- helpers -----------------------------------------------------------------------------------

function requireSomething(fields: Record<string, unknown>, what: string): void {
  if (Object.values(fields).every((v) => v === undefined || v === null)) {
    throw domainError(
      'NOTHING_TO_REVISE',
      `A ${what} revision must change at least one of: ${Object.keys(fields).join(', ')}.`,
    );
  }
}

function unknownCommand(command: never): never {
  throw domainError('INVALID_COMMAND', `Unknown catalog command ${describe((command as { type: unknown }).type)}.`);
}
