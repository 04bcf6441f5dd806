import { validateQuestionDefinition } from '../../../domain/assessment/questionDefinition';
import type { QuestionType } from '../../../domain/assessment/rubric';
import {
  choiceQuestionChoices,
  cloudProfile,
  essayDesign,
  multipleWithPenalty,
  singleChoice,
  weightedOptions,
  weightedOptionsChoices,
} from '../../../domain/assessment/rubricExamples';
import { catalogDecider, type CatalogCommand } from '../../../domain/catalog/decide';
import type { Actor } from '../../../domain/shared/decider';
import { isDomainError } from '../../../domain/shared/errors';
import { idFromKey, isUuid } from '../../../domain/shared/ids';
import { passwordProblems } from '../auth/passwordPolicy';
import { compileAgainstContract, schemaValidator } from './contract';
import { openApiDocument } from './document';

/**
 * The served contract and the server agree on each boundary the contract states: an example the
 * document refuses is refused by the server's own validation (the domain's deciders, the
 * password policy, `isUuid`), and an example it accepts, the server accepts. Validators are the
 * app's own: `schemaValidator` (the Ajv instance that checks request bodies) on the document's
 * component schemas. Pure: no stack.
 */

const admin: Actor = { id: idFromKey('user', 'root@example.com'), role: 'admin' };
const metadata = {
  command_id: idFromKey('command', 'constraints-spec'),
  now: '2026-01-01T00:00:00.000Z',
  actor: admin,
};
const ROLE_ID = '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11';

const docAccepts = (schemaName: string, body: unknown): boolean => schemaValidator(schemaName)(body) === true;

/** Whether the server's validation takes it: false when it throws a validation (422) domain error. */
function serverAccepts(decide: () => unknown): boolean {
  try {
    decide();
    return true;
  } catch (error) {
    if (isDomainError(error) && error.kind === 'validation') return false;
    throw error;
  }
}

const decide = (type: CatalogCommand['type'], data: Record<string, unknown>) => () =>
  catalogDecider.decide({ type, data, metadata } as unknown as CatalogCommand, catalogDecider.initialState());

const emoji = (n: number) => '🚀'.repeat(n);
const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));

type Case = [label: string, body: Record<string, unknown>, accepted: boolean];

function agreeOn(schemaName: string, server: (body: Record<string, unknown>) => () => unknown, cases: Case[]): void {
  test.each(cases)(`${schemaName}: %s → accepted %s by the document and the server`, (_label, body, accepted) => {
    expect({ document: docAccepts(schemaName, body), server: serverAccepts(server(body)) }).toEqual({
      document: accepted,
      server: accepted,
    });
  });
}

describe('roles (RoleInput vs CreateRole)', () => {
  const role = (over: Record<string, unknown>) => ({
    name: 'Cloud engineer',
    skills_profile: [{ skill: 'sql' }],
    ...over,
  });
  agreeOn('RoleInput', (body) => decide('CreateRole', { role_id: ROLE_ID, ...body }), [
    ['a role', role({}), true],
    ['a name of 64 characters beyond the BMP', role({ name: emoji(64) }), true],
    ['a name of 65 characters', role({ name: 'x'.repeat(65) }), false],
    ['a blank name', role({ name: '   ' }), false],
    ['a tab in the name', role({ name: 'Cloud\tengineer' }), false],
    ['a trailing line feed in the name', role({ name: 'Cloud engineer\n' }), false],
    ['a NUL in the name', role({ name: 'Cloud\u0000engineer' }), false],
    ['a DEL in the name', role({ name: 'Cloud\u007Fengineer' }), false],
    ['non-ASCII letters and a no-break space', role({ name: 'Ingénieur\u00A0cloud' }), true],
    ['no skills', role({ skills_profile: [] }), false],
    ['50 skills', role({ skills_profile: many(50, (i) => ({ skill: `s${i}` })) }), true],
    ['51 skills', role({ skills_profile: many(51, (i) => ({ skill: `s${i}` })) }), false],
    ['a blank skill', role({ skills_profile: [{ skill: ' ' }] }), false],
    ['a skill of 101 characters', role({ skills_profile: [{ skill: 'k'.repeat(101) }] }), false],
    ['a skill with a line feed', role({ skills_profile: [{ skill: 'sq\nl' }] }), false],
    ['a level of 6', role({ skills_profile: [{ skill: 'sql', level: 6 }] }), false],
    ['a level of 2.5', role({ skills_profile: [{ skill: 'sql', level: 2.5 }] }), false],
    ['a weight of 0', role({ skills_profile: [{ skill: 'sql', weight: 0 }] }), false],
    ['an unknown key in a skill', role({ skills_profile: [{ skill: 'sql', years: 2 }] }), false],
  ]);

  test('a skill listed twice (by name, case-insensitively) is refused by the server and said in the description', () => {
    const body = role({ skills_profile: [{ skill: 'SQL' }, { skill: 'sql ' }] });
    expect(serverAccepts(decide('CreateRole', { role_id: ROLE_ID, ...body }))).toBe(false);
    const schemas = openApiDocument.components.schemas as unknown as Record<
      string,
      { properties: Record<string, { description?: string }> }
    >;
    expect(schemas.RoleInput!.properties.skills_profile!.description).toMatch(/case-insensitively/);
  });

  test('a control character is a 422 INVALID_ROLE naming the field and the character', () => {
    expect(decide('CreateRole', { role_id: ROLE_ID, ...role({ name: 'Cloud\u0007engineer' }) })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ROLE',
        kind: 'validation',
        details: { field: 'name', problem: 'control_character' },
        message: expect.stringMatching(/name must be one line of text.*U\+0007 at character 6/),
      }),
    );
  });
});

describe('credentials (CredentialInput vs CreateCredential)', () => {
  const credential = (over: Record<string, unknown>) => ({
    title: 'AWS Cloud Practitioner',
    description: 'Cloud fundamentals',
    skills: ['aws', 'cloud'],
    ...over,
  });
  const id = idFromKey('credential', 'constraints');
  agreeOn('CredentialInput', (body) => decide('CreateCredential', { credential_id: id, ...body }), [
    ['a credential', credential({ provider: 'AWS', metadata: { hours: 20 } }), true],
    ['a title of 300 characters beyond the BMP', credential({ title: emoji(300) }), true],
    ['a title of 301 characters', credential({ title: 't'.repeat(301) }), false],
    ['a blank title', credential({ title: ' \t' }), false],
    ['a line feed in the title', credential({ title: 'AWS\nCloud' }), false],
    ['an escape character in the title', credential({ title: 'AWS \u001B[31m' }), false],
    ['no skills', credential({ skills: [] }), false],
    ['50 skills', credential({ skills: many(50, (i) => `skill ${i}`) }), true],
    ['51 skills', credential({ skills: many(51, (i) => `skill ${i}`) }), false],
    ['a skill listed twice', credential({ skills: ['aws', 'aws'] }), false],
    ['a blank skill', credential({ skills: ['aws', '  '] }), false],
    ['a skill of 101 characters', credential({ skills: ['s'.repeat(101)] }), false],
    ['a skill with a tab', credential({ skills: ['a\tws'] }), false],
    ['a blank provider', credential({ provider: ' ' }), false],
    ['a provider of 201 characters', credential({ provider: 'p'.repeat(201) }), false],
  ]);

  test('skills differing only by case are refused by the server and said in the description', () => {
    expect(
      serverAccepts(decide('CreateCredential', { credential_id: id, ...credential({ skills: ['AWS', 'aws'] }) })),
    ).toBe(false);
    const schemas = openApiDocument.components.schemas as unknown as Record<
      string,
      { properties: Record<string, { description?: string }> }
    >;
    expect(schemas.CredentialInput!.properties.skills!.description).toMatch(/case-insensitively/);
  });
});

describe('questions and rubrics (QuestionInput / QuestionRevisionInput vs the question definition)', () => {
  const codes = { question: 'INVALID_QUESTION', rubric: 'INVALID_RUBRIC' } as const;
  const server = (body: Record<string, unknown>) => () =>
    validateQuestionDefinition(
      {
        question_type: body.question_type as QuestionType,
        prompt: body.prompt,
        choices: body.choices ?? null,
        rubric: body.rubric,
        weight: body.weight,
        required: body.required ?? true,
      },
      codes,
    );
  const mc = (over: Record<string, unknown> = {}) => ({
    role_id: ROLE_ID,
    question_type: 'multiple_choice',
    prompt: 'Which tool orchestrates containers?',
    choices: choiceQuestionChoices,
    rubric: singleChoice,
    weight: 10,
    ...over,
  });
  const essay = (over: Record<string, unknown> = {}) => ({
    role_id: ROLE_ID,
    question_type: 'essay',
    prompt: 'Design a deployment pipeline.',
    rubric: essayDesign,
    weight: 20,
    ...over,
  });
  const profile = (over: Record<string, unknown> = {}) => ({
    role_id: ROLE_ID,
    question_type: 'profile',
    prompt: 'Tell us about your experience.',
    rubric: cloudProfile,
    weight: 30,
    ...over,
  });
  const rules = (...r: unknown[]) => ({ scoring: 'profile', rules: r });
  const skillsRule = { id: 'r', type: 'skills', points: 1, field: 'skills', expected: ['aws'] };

  agreeOn('QuestionInput', server, [
    ['a multiple-choice question (RUBRICS.md)', mc(), true],
    ['several picks with a penalty (RUBRICS.md)', mc({ rubric: multipleWithPenalty }), true],
    ['weighted options (RUBRICS.md)', mc({ choices: weightedOptionsChoices, rubric: weightedOptions }), true],
    ['an essay question (RUBRICS.md)', essay(), true],
    ['a profile question (RUBRICS.md)', profile(), true],
    ['a blank prompt', mc({ prompt: ' \n ' }), false],
    ['a multi-line prompt', essay({ prompt: 'Design a pipeline.\nExplain the rollback.' }), true],
    ['a multiple-choice question without choices', mc({ choices: undefined }), false],
    ['one choice only', mc({ choices: ['kubernetes'], rubric: { ...singleChoice } }), false],
    ['a choice listed twice', mc({ choices: ['kubernetes', 'kubernetes'] }), false],
    ['a blank choice', mc({ choices: ['kubernetes', ' '] }), false],
    ['choices on an essay question', essay({ choices: ['a', 'b'] }), false],
    ['null choices on an essay question', essay({ choices: null }), true],
    ['an essay rubric on a multiple-choice question', mc({ rubric: essayDesign }), false],
    ['a choice rubric on a profile question', profile({ rubric: singleChoice }), false],
    ['an empty rubric', essay({ rubric: {} }), false],
    ['a choice rubric without select', mc({ rubric: { scoring: 'choice', correct: ['kubernetes'] } }), false],
    ['a choice rubric with a typo', mc({ rubric: { ...singleChoice, parital_credit: true } }), false],
    ['partial credit on a single select', mc({ rubric: { ...singleChoice, partial_credit: true } }), false],
    ['a min_score below -1', mc({ rubric: { ...singleChoice, min_score: -1.5 } }), false],
    ['a negative wrong_penalty', mc({ rubric: { ...multipleWithPenalty, wrong_penalty: -1 } }), false],
    [
      'a correct answer listed twice',
      mc({ rubric: { ...singleChoice, correct: ['kubernetes', 'kubernetes'] } }),
      false,
    ],
    [
      'an essay criterion with one band',
      essay({
        rubric: {
          scoring: 'essay',
          criteria: [{ ...essayDesign.criteria[0], bands: [{ score: 0, descriptor: 'x' }] }],
        },
      }),
      false,
    ],
    [
      'an essay criterion weighing 0',
      essay({ rubric: { scoring: 'essay', criteria: [{ ...essayDesign.criteria[0], weight: 0 }] } }),
      false,
    ],
    ['min_words of 0', essay({ rubric: { ...essayDesign, min_words: 0 } }), false],
    ['no criteria', essay({ rubric: { scoring: 'essay', criteria: [] } }), false],
    ['no rules', profile({ rubric: rules() }), false],
    ['a skills rule', profile({ rubric: rules(skillsRule) }), true],
    ['an unknown rule type', profile({ rubric: rules({ ...skillsRule, type: 'vibes' }) }), false],
    [
      'an empty segment in a field path',
      profile({ rubric: rules({ ...skillsRule, field: 'experience..years' }) }),
      false,
    ],
    ['a blank field path segment', profile({ rubric: rules({ ...skillsRule, field: 'experience. ' }) }), false],
    ['a dotted field path', profile({ rubric: rules({ ...skillsRule, field: 'experience.years' }) }), true],
    ['negative points', profile({ rubric: rules({ ...skillsRule, points: -1 }) }), false],
    ['a blank expected skill', profile({ rubric: rules({ ...skillsRule, expected: [' '] }) }), false],
    [
      'a range band without bounds',
      profile({ rubric: rules({ id: 'y', type: 'range', points: 1, field: 'years', bands: [{ credit: 1 }] }) }),
      false,
    ],
    [
      'a range band with credit 2',
      profile({ rubric: rules({ id: 'y', type: 'range', points: 1, field: 'years', bands: [{ min: 0, credit: 2 }] }) }),
      false,
    ],
    [
      'a keywords rule with min_matches 0',
      profile({
        rubric: rules({ id: 'k', type: 'keywords', points: 1, field: 'bio', terms: ['aws'], min_matches: 0 }),
      }),
      false,
    ],
    [
      'a required rule listing a field twice',
      profile({ rubric: rules({ id: 'q', type: 'required', points: 1, fields: ['a', 'a'] }) }),
      false,
    ],
  ]);

  agreeOn('QuestionRevisionInput', server, [
    [
      'an essay revision',
      { question_type: 'essay', prompt: 'Why?', choices: null, rubric: essayDesign, weight: 2 },
      true,
    ],
    [
      'an essay revision with a choice rubric',
      { question_type: 'essay', prompt: 'Why?', rubric: singleChoice, weight: 2 },
      false,
    ],
  ]);
});

describe('passwords (RegisterRequest, CreateUserRequest vs passwordPolicy)', () => {
  const email = 'ada@example.com';
  const serverTakes = (password: string) => passwordProblems(password, email).length === 0;
  test.each<[string, string, boolean]>([
    ['12 characters with a letter and a digit', 'abcdefghijk1', true],
    ['11 characters', 'abcdefghij1', false],
    ['72 ASCII characters', `${'a'.repeat(71)}1`, true],
    ['73 ASCII characters', `${'a'.repeat(72)}1`, false],
    ['no digit', 'abcdefghijkl', false],
    ['no letter', '123456789012', false],
    ['letters and digits of other scripts', 'пароль-секрет٣', true],
    ['one character repeated', 'aaaaaaaaaaaaaa', false],
    ['a line break inside', 'correct\nhorse 1', true],
  ])('%s → accepted %s by the document and the server', (_label, password, accepted) => {
    expect(docAccepts('RegisterRequest', { email, password })).toBe(accepted);
    expect(docAccepts('CreateUserRequest', { email, password, role: 'advisor' })).toBe(accepted);
    expect(serverTakes(password)).toBe(accepted);
  });

  test('what JSON Schema cannot state is in the description, and the server refuses it', () => {
    const schemas = openApiDocument.components.schemas as unknown as Record<
      string,
      { properties: Record<string, { description?: string }> }
    >;
    const description = schemas.RegisterRequest!.properties.password!.description ?? '';
    expect(description).toMatch(/72 bytes/);
    expect(description).toMatch(/before "@"/);
    // 72 characters, 144 bytes: the document cannot tell; the server refuses.
    expect(docAccepts('RegisterRequest', { email, password: `${'é'.repeat(71)}1` })).toBe(true);
    expect(serverTakes(`${'é'.repeat(71)}1`)).toBe(false);
    // The email's name inside the password.
    expect(docAccepts('RegisterRequest', { email: 'adam@example.com', password: 'my-adam-password-1' })).toBe(true);
    expect(passwordProblems('my-adam-password-1', 'adam@example.com')).toContain('must not contain your email name');
  });

  test('signing in states no policy: an old password still signs in', () => {
    expect(docAccepts('TokenRequest', { email, password: 'x' })).toBe(true);
  });
});

describe('ids (format uuid and the versions the server takes)', () => {
  const parameters = openApiDocument.components.parameters as unknown as Record<string, { schema: object }>;
  const uuidParameters = ['RoleId', 'QuestionId', 'AssessmentId', 'RecommendationId', 'CredentialId', 'CommandId'];
  test.each<[string, string, boolean]>([
    ['a version 4 UUID', '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11', true],
    ['a version 5 UUID in capitals', idFromKey('role', 'x').toUpperCase(), true],
    ['a name', 'r1', false],
    ['a urn:uuid: prefix', 'urn:uuid:3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11', false],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000', false],
    ['a version 0 UUID', '3f1c2a3e-8d0b-0b7e-9a52-1d6f0c3b2a11', false],
    ['a wrong variant', '3f1c2a3e-8d0b-4b7e-1a52-1d6f0c3b2a11', false],
  ])('%s → accepted %s by the document and the server', (_label, id, accepted) => {
    expect(isUuid(id)).toBe(accepted);
    expect(docAccepts('AssessmentStartRequest', { role_id: id })).toBe(accepted);
    expect(
      docAccepts('QuestionInput', {
        role_id: id,
        question_type: 'essay',
        prompt: 'Why?',
        rubric: essayDesign,
        weight: 1,
      }),
    ).toBe(accepted);
    for (const name of uuidParameters) expect(compileAgainstContract(parameters[name]!.schema)(id)).toBe(accepted);
  });
});

describe('knowledge document titles', () => {
  const body = (title: string) => ({ title, source_uri: 'https://example.com/guide', text: 'Some text.' });
  const id = idFromKey('document', 'constraints');
  test.each<[string, string, boolean]>([
    ['a title', 'SQL in practice', true],
    ['a line feed in the title', 'SQL\nin practice', false],
    ['a NUL in the title', 'SQL\u0000', false],
  ])('%s → accepted %s by the document and the server', (_label, title, accepted) => {
    expect(docAccepts('KnowledgeDocumentInput', body(title))).toBe(accepted);
    expect(docAccepts('KnowledgeDocumentRevisionInput', { title })).toBe(accepted);
    expect(serverAccepts(decide('AddKnowledgeDocument', { document_id: id, ...body(title) }))).toBe(accepted);
  });
});
