import { essayDesign, multipleWithPenalty, singleChoice } from '../assessment/rubricExamples';
import type { Actor, CommandMetadata } from '../shared/decider';
import { DeciderSpecification, stateAfter } from '../shared/deciderSpecification';
import { idFromKey } from '../shared/ids';
import type { CredentialCreated } from './credential';
import type {
  CatalogCommand,
  CreateCredential,
  CreateQuestion,
  CreateRole,
  ReviseCredential,
  ReviseQuestion,
  ReviseRole,
} from './decide';
import { aggregateIdOf, aggregateTypeOf, catalogDecider } from './decide';
import type { QuestionCreated, QuestionRevised } from './question';
import type { RoleCreated } from './role';

const given = DeciderSpecification.for(catalogDecider);

const admin: Actor = { id: idFromKey('user', 'root@example.com'), role: 'admin' };
const system: Actor = { id: 'system:seed', role: 'system' };
const student: Actor = { id: idFromKey('user', 'ada@example.com'), role: 'student' };
const advisor: Actor = { id: idFromKey('user', 'grace@example.com'), role: 'advisor' };
const meta = (actor: Actor = admin): CommandMetadata => ({
  command_id: idFromKey('command', 'catalog-spec'),
  now: '2025-03-01T09:00:00.000Z',
  actor,
});

const roleId = idFromKey('role', 'cloud-engineer');
const questionId = idFromKey('question', 'orchestrator');
const credentialId = idFromKey('credential', 'cka');

// --- roles ---------------------------------------------------------------------------------------

const createRole = (data: Partial<CreateRole['data']> = {}, actor?: Actor): CreateRole => ({
  type: 'CreateRole',
  data: {
    role_id: roleId,
    name: 'Cloud engineer',
    description: 'Builds and runs cloud platforms.',
    skills_profile: [{ skill: 'kubernetes', level: 3, weight: 2 }, { skill: 'terraform' }],
    ...data,
  },
  metadata: meta(actor),
});
const reviseRole = (data: Partial<ReviseRole['data']>, actor?: Actor): ReviseRole => ({
  type: 'ReviseRole',
  data: { role_id: roleId, ...data },
  metadata: meta(actor),
});
const retireRole = (actor?: Actor): CatalogCommand => ({
  type: 'RetireRole',
  data: { role_id: roleId, reason: 'merged into platform engineer' },
  metadata: meta(actor),
});
const roleCreated: RoleCreated = {
  type: 'RoleCreated',
  data: {
    role_id: roleId,
    name: 'Cloud engineer',
    description: 'Builds and runs cloud platforms.',
    skills_profile: [{ skill: 'kubernetes', level: 3, weight: 2 }, { skill: 'terraform' }],
  },
};
const roleRetired = {
  type: 'RoleRetired',
  data: { role_id: roleId, reason: 'merged into platform engineer' },
} as const;

// --- questions -----------------------------------------------------------------------------------

const createQuestion = (data: Partial<CreateQuestion['data']> = {}, actor?: Actor): CreateQuestion => ({
  type: 'CreateQuestion',
  data: {
    question_id: questionId,
    role_id: roleId,
    question_type: 'multiple_choice',
    prompt: 'Which tool orchestrates containers?',
    choices: ['kubernetes', 'docker', 'helm', 'ftp'],
    rubric: singleChoice,
    weight: 2,
    required: true,
    ...data,
  },
  metadata: meta(actor),
});
const reviseQuestion = (data: Partial<ReviseQuestion['data']>, actor?: Actor): ReviseQuestion => ({
  type: 'ReviseQuestion',
  data: { question_id: questionId, ...data },
  metadata: meta(actor),
});
const retireQuestion = (actor?: Actor): CatalogCommand => ({
  type: 'RetireQuestion',
  data: { question_id: questionId },
  metadata: meta(actor),
});
const questionCreated: QuestionCreated = {
  type: 'QuestionCreated',
  data: {
    question_id: questionId,
    role_id: roleId,
    version: '1',
    question_type: 'multiple_choice',
    prompt: 'Which tool orchestrates containers?',
    choices: ['kubernetes', 'docker', 'helm', 'ftp'],
    rubric: singleChoice,
    weight: 2,
    required: true,
  },
};
const questionRevised = (version: string, changes: Partial<QuestionRevised['data']> = {}): QuestionRevised => ({
  type: 'QuestionRevised',
  data: { ...questionCreated.data, version, ...changes },
});
const questionRetired = {
  type: 'QuestionRetired',
  data: { question_id: questionId, version: '1', reason: null },
} as const;

// --- credentials ---------------------------------------------------------------------------------

const createCredential = (data: Partial<CreateCredential['data']> = {}, actor?: Actor): CreateCredential => ({
  type: 'CreateCredential',
  data: {
    credential_id: credentialId,
    title: 'Certified Kubernetes Administrator',
    description: 'Hands-on Kubernetes administration.',
    skills: ['kubernetes', 'linux'],
    provider: 'CNCF',
    metadata: { hours: 40 },
    ...data,
  },
  metadata: meta(actor),
});
const reviseCredential = (data: Partial<ReviseCredential['data']>, actor?: Actor): ReviseCredential => ({
  type: 'ReviseCredential',
  data: { credential_id: credentialId, ...data },
  metadata: meta(actor),
});
const retireCredential = (actor?: Actor): CatalogCommand => ({
  type: 'RetireCredential',
  data: { credential_id: credentialId, reason: null },
  metadata: meta(actor),
});
const credentialCreated: CredentialCreated = {
  type: 'CredentialCreated',
  data: {
    credential_id: credentialId,
    title: 'Certified Kubernetes Administrator',
    description: 'Hands-on Kubernetes administration.',
    skills: ['kubernetes', 'linux'],
    provider: 'CNCF',
    metadata: { hours: 40 },
  },
};
const credentialRetired = { type: 'CredentialRetired', data: { credential_id: credentialId, reason: null } } as const;

describe('Catalog decider', () => {
  test('commands are keyed by their aggregate id and typed role / question / credential', () => {
    expect(aggregateIdOf(createRole())).toBe(roleId);
    expect(aggregateIdOf(reviseQuestion({ prompt: 'x' }))).toBe(questionId);
    expect(aggregateIdOf(retireCredential())).toBe(credentialId);
    expect(aggregateTypeOf(createRole())).toBe('role');
    expect(aggregateTypeOf(questionCreated)).toBe('question');
    expect(aggregateTypeOf(credentialRetired)).toBe('credential');
  });

  describe.each<[string, CatalogCommand]>([
    ['CreateRole', createRole()],
    ['ReviseRole', reviseRole({ name: 'x' })],
    ['RetireRole', retireRole()],
    ['CreateQuestion', createQuestion()],
    ['ReviseQuestion', reviseQuestion({ prompt: 'x' })],
    ['RetireQuestion', retireQuestion()],
    ['CreateCredential', createCredential()],
    ['ReviseCredential', reviseCredential({ title: 'x' })],
    ['RetireCredential', retireCredential()],
  ])('%s is admin-only', (_name, command) => {
    test.each([
      ['a student', student],
      ['an advisor', advisor],
    ])('%s is refused', (_who, actor) => {
      given([])
        .when({ ...command, metadata: meta(actor) })
        .thenThrows('ADMIN_ROLE_REQUIRED', { kind: 'forbidden', message: /Only an admin/ });
    });
  });

  describe('roles', () => {
    describe('when none', () => {
      test('CreateRole creates it', () => {
        given([]).when(createRole()).then([roleCreated]);
      });

      test('the system may create it; the description is optional', () => {
        given([])
          .when(createRole({ description: undefined }, system))
          .then([{ ...roleCreated, data: { ...roleCreated.data, description: '' } }]);
      });

      test.each<[string, Partial<CreateRole['data']>, RegExp]>([
        ['a blank name', { name: '  ' }, /name must not be empty/],
        ['a name over 64 characters', { name: 'x'.repeat(65) }, /at most 64/],
        ['no skills', { skills_profile: [] }, /skills_profile must be a non-empty list/],
        ['a skill listed twice', { skills_profile: [{ skill: 'AWS' }, { skill: 'aws' }] }, /lists "aws" twice/],
        [
          'a level outside 1-5',
          { skills_profile: [{ skill: 'aws', level: 7 }] },
          /level must be a whole number from 1 to 5/,
        ],
        ['a zero weight', { skills_profile: [{ skill: 'aws', weight: 0 }] }, /weight must be a number above 0/],
        ['an unknown key', { skills_profile: [{ skill: 'aws', years: 2 } as never] }, /years is not a known key/],
      ])('refuses %s', (_name, data, message) => {
        given([]).when(createRole(data)).thenThrows('INVALID_ROLE', { kind: 'validation', message });
      });

      test('a role id must be a UUID', () => {
        given([])
          .when(createRole({ role_id: 'cloud' }))
          .thenThrows('INVALID_COMMAND');
      });

      test('ReviseRole and RetireRole are refused: no such role', () => {
        given([])
          .when(reviseRole({ name: 'x' }))
          .thenThrows('ROLE_NOT_FOUND', { kind: 'not_found' });
        given([]).when(retireRole()).thenThrows('ROLE_NOT_FOUND');
      });
    });

    describe('when active', () => {
      test('CreateRole is refused: it exists', () => {
        given([roleCreated]).when(createRole()).thenThrows('ROLE_ALREADY_EXISTS', { kind: 'conflict' });
      });

      test('ReviseRole changes what it names and the event carries the full definition', () => {
        given([roleCreated])
          .when(reviseRole({ name: 'Platform engineer', description: null }))
          .then([{ type: 'RoleRevised', data: { ...roleCreated.data, name: 'Platform engineer' } }]);
      });

      test('ReviseRole with nothing to change is refused', () => {
        given([roleCreated])
          .when(reviseRole({ name: null }))
          .thenThrows('NOTHING_TO_REVISE', { kind: 'validation' });
      });

      test('ReviseRole validates the result', () => {
        given([roleCreated])
          .when(reviseRole({ skills_profile: [] }))
          .thenThrows('INVALID_ROLE');
      });

      test('RetireRole retires it', () => {
        given([roleCreated]).when(retireRole()).then([roleRetired]);
      });
    });

    describe('when retired', () => {
      test('ReviseRole and RetireRole are refused', () => {
        given([roleCreated, roleRetired])
          .when(reviseRole({ name: 'x' }))
          .thenThrows('ROLE_RETIRED', { kind: 'conflict' });
        given([roleCreated, roleRetired]).when(retireRole()).thenThrows('ROLE_RETIRED');
      });
    });
  });

  describe('questions', () => {
    describe('when none', () => {
      test('CreateQuestion creates version "1"', () => {
        given([]).when(createQuestion()).then([questionCreated]);
      });

      test('essay and profile questions have no choices', () => {
        const [event] = given([])
          .when(
            createQuestion({
              question_type: 'profile',
              choices: null,
              rubric: { scoring: 'profile', rules: [{ id: 'r', type: 'required', fields: ['skills'], points: 1 }] },
            }),
          )
          .thenEvents();
        expect(event).toMatchObject({ data: { question_type: 'profile', choices: null, version: '1' } });
      });

      test('an invalid rubric is refused, naming the problem', () => {
        given([])
          .when(createQuestion({ rubric: { ...singleChoice, correct: ['rsync'] } }))
          .thenThrows('INVALID_RUBRIC', {
            kind: 'validation',
            message: /rubric.correct\[0\] "rsync" is not one of the choices/,
            details: { problems: [expect.stringContaining('rsync')] },
          });
      });

      test('a rubric for another question type is refused', () => {
        given([])
          .when(createQuestion({ question_type: 'essay', choices: null }))
          .thenThrows('INVALID_RUBRIC', { message: /must be "essay"/ });
      });

      test.each<[string, Partial<CreateQuestion['data']>, RegExp]>([
        ['an unknown type', { question_type: 'oral' as never }, /question_type must be one of/],
        ['a blank prompt', { prompt: ' ' }, /prompt must be a non-empty string/],
        ['a single choice', { choices: ['kubernetes'] }, /at least 2 options/],
        ['a repeated choice', { choices: ['kubernetes', 'kubernetes'] }, /listed twice/],
        ['a blank choice', { choices: ['kubernetes', ''] }, /every choice must be a non-empty string/],
        ['choices on an essay', { question_type: 'essay', choices: ['a', 'b'] }, /choices must be null/],
        ['a zero weight', { weight: 0 }, /weight must be a number above 0/],
        ['a weight over 999.99', { weight: 1000 }, /at most 999.99/],
        ['a non-boolean required', { required: 'yes' as never }, /required must be true or false/],
      ])('refuses %s', (_name, data, message) => {
        given([]).when(createQuestion(data)).thenThrows('INVALID_QUESTION', { kind: 'validation', message });
      });

      test('ReviseQuestion and RetireQuestion are refused: no such question', () => {
        given([])
          .when(reviseQuestion({ prompt: 'x' }))
          .thenThrows('QUESTION_NOT_FOUND', { kind: 'not_found' });
        given([]).when(retireQuestion()).thenThrows('QUESTION_NOT_FOUND');
      });
    });

    describe('when active', () => {
      test('CreateQuestion is refused: it exists', () => {
        given([questionCreated]).when(createQuestion()).thenThrows('QUESTION_ALREADY_EXISTS', { kind: 'conflict' });
      });

      test('ReviseQuestion makes version "2" carrying the full new definition', () => {
        given([questionCreated])
          .when(reviseQuestion({ prompt: 'Which tool schedules containers?', weight: 3 }))
          .then([questionRevised('2', { prompt: 'Which tool schedules containers?', weight: 3 })]);
      });

      test('each revision is the next version', () => {
        given([questionCreated, questionRevised('2'), questionRevised('3')])
          .when(reviseQuestion({ required: false }))
          .then([questionRevised('4', { required: false })]);
      });

      test('revising the choices and rubric together', () => {
        given([questionCreated])
          .when(reviseQuestion({ rubric: multipleWithPenalty }))
          .then([questionRevised('2', { rubric: multipleWithPenalty })]);
      });

      test('a revision is validated as a whole', () => {
        given([questionCreated])
          .when(reviseQuestion({ choices: ['docker', 'helm'] }))
          .thenThrows('INVALID_RUBRIC', { message: /"kubernetes" is not one of the choices/ });
      });

      test('changing to an essay drops the choices, and needs an essay rubric', () => {
        const essayRubric = {
          scoring: 'essay',
          criteria: [
            {
              id: 'c',
              description: 'Clear',
              weight: 1,
              bands: [
                { score: 0, descriptor: 'No' },
                { score: 1, descriptor: 'Yes' },
              ],
            },
          ],
        };
        given([questionCreated])
          .when(reviseQuestion({ question_type: 'essay', rubric: essayRubric }))
          .then([questionRevised('2', { question_type: 'essay', choices: null, rubric: essayRubric as never })]);
        given([questionCreated])
          .when(reviseQuestion({ question_type: 'essay' }))
          .thenThrows('INVALID_RUBRIC');
      });

      test('ReviseQuestion with nothing to change is refused', () => {
        given([questionCreated]).when(reviseQuestion({})).thenThrows('NOTHING_TO_REVISE');
      });

      test('RetireQuestion retires the current version', () => {
        given([questionCreated, questionRevised('2')])
          .when(retireQuestion())
          .then([{ type: 'QuestionRetired', data: { question_id: questionId, version: '2', reason: null } }]);
      });
    });

    describe('when retired', () => {
      test('ReviseQuestion and RetireQuestion are refused', () => {
        given([questionCreated, questionRetired])
          .when(reviseQuestion({ prompt: 'x' }))
          .thenThrows('QUESTION_RETIRED', { kind: 'conflict' });
        given([questionCreated, questionRetired]).when(retireQuestion()).thenThrows('QUESTION_RETIRED');
      });
    });

    describe('ImportScoredExamples', () => {
      const essayCreated: QuestionCreated = {
        type: 'QuestionCreated',
        data: { ...questionCreated.data, question_type: 'essay', choices: null, rubric: essayDesign, weight: 4 },
      };
      const importId = idFromKey('import', 'spec');
      const importExamples = (examples: unknown, actor?: Actor): CatalogCommand => ({
        type: 'ImportScoredExamples',
        data: { question_id: questionId, import_id: importId, examples: examples as { text: string; score: number }[] },
        metadata: meta(actor),
      });

      test('an admin imports examples for an essay question: one event with every example, trimmed', () => {
        given([essayCreated])
          .when(
            importExamples([
              { text: ' Two zones and a balancer. ', score: 4 },
              { text: 'No idea', score: 0 },
            ]),
          )
          .then([
            {
              type: 'ScoredExamplesImported',
              data: {
                question_id: questionId,
                question_version: '1',
                import_id: importId,
                examples: [
                  { text: 'Two zones and a balancer.', score: 4 },
                  { text: 'No idea', score: 0 },
                ],
                imported_at: '2025-03-01T09:00:00.000Z',
              },
            },
          ]);
      });

      test('all or nothing: one bad example refuses the import, naming it', () => {
        given([essayCreated])
          .when(
            importExamples([
              { text: 'ok', score: 1 },
              { text: 'too high', score: 4.5 },
            ]),
          )
          .thenThrows('INVALID_SCORED_EXAMPLES', { details: { index: 1 }, message: /from 0 to 4/ });
        given([essayCreated])
          .when(importExamples([{ text: '  ', score: 1 }]))
          .thenThrows('INVALID_SCORED_EXAMPLES', { details: { index: 0 } });
        given([essayCreated]).when(importExamples([])).thenThrows('INVALID_SCORED_EXAMPLES');
      });

      test('refused for a question that is not an essay, or does not exist, or from a non-admin', () => {
        given([questionCreated])
          .when(importExamples([{ text: 'x', score: 1 }]))
          .thenThrows('INVALID_SCORED_EXAMPLES', { message: /multiple_choice/ });
        given([])
          .when(importExamples([{ text: 'x', score: 1 }]))
          .thenThrows('QUESTION_NOT_FOUND');
        given([essayCreated])
          .when(importExamples([{ text: 'x', score: 1 }], advisor))
          .thenThrows('ADMIN_ROLE_REQUIRED');
      });

      test('examples do not change the question', () => {
        const events = given([essayCreated])
          .when(importExamples([{ text: 'x', score: 1 }]))
          .thenEvents();
        expect(stateAfter(catalogDecider, [essayCreated, ...events])).toEqual(
          stateAfter(catalogDecider, [essayCreated]),
        );
      });
    });
  });

  describe('credentials', () => {
    describe('when none', () => {
      test('CreateCredential creates it', () => {
        given([]).when(createCredential()).then([credentialCreated]);
      });

      test('provider, metadata and description are optional; skills are trimmed', () => {
        given([])
          .when(
            createCredential({ provider: undefined, metadata: undefined, description: undefined, skills: [' aws '] }),
          )
          .then([
            {
              type: 'CredentialCreated',
              data: { ...credentialCreated.data, provider: null, metadata: null, description: '', skills: ['aws'] },
            },
          ]);
      });

      test.each<[string, Partial<CreateCredential['data']>, RegExp]>([
        ['a blank title', { title: '' }, /title must not be empty/],
        ['no skills', { skills: [] }, /skills must be a list of 1 to 50/],
        ['a blank skill', { skills: ['aws', ' '] }, /skills must be a list/],
        ['a repeated skill', { skills: ['AWS', 'aws'] }, /lists "aws" twice/],
        ['metadata that is not an object', { metadata: 'x' as never }, /metadata must be a JSON object/],
      ])('refuses %s', (_name, data, message) => {
        given([]).when(createCredential(data)).thenThrows('INVALID_CREDENTIAL', { kind: 'validation', message });
      });

      test('ReviseCredential and RetireCredential are refused: no such credential', () => {
        given([])
          .when(reviseCredential({ title: 'x' }))
          .thenThrows('CREDENTIAL_NOT_FOUND', { kind: 'not_found' });
        given([]).when(retireCredential()).thenThrows('CREDENTIAL_NOT_FOUND');
      });
    });

    describe('when active', () => {
      test('CreateCredential is refused: it exists', () => {
        given([credentialCreated])
          .when(createCredential())
          .thenThrows('CREDENTIAL_ALREADY_EXISTS', { kind: 'conflict' });
      });

      test('ReviseCredential carries the full definition', () => {
        given([credentialCreated])
          .when(reviseCredential({ skills: ['kubernetes', 'linux', 'networking'] }))
          .then([
            {
              type: 'CredentialRevised',
              data: { ...credentialCreated.data, skills: ['kubernetes', 'linux', 'networking'] },
            },
          ]);
      });

      test('ReviseCredential validates the result', () => {
        given([credentialCreated])
          .when(reviseCredential({ title: ' ' }))
          .thenThrows('INVALID_CREDENTIAL', { message: /title must not be empty/ });
      });

      test('ReviseCredential with nothing to change is refused', () => {
        given([credentialCreated])
          .when(reviseCredential({ provider: null }))
          .thenThrows('NOTHING_TO_REVISE');
      });

      test('RetireCredential retires it', () => {
        given([credentialCreated]).when(retireCredential()).then([credentialRetired]);
      });
    });

    describe('when retired', () => {
      test('ReviseCredential and RetireCredential are refused', () => {
        given([credentialCreated, credentialRetired])
          .when(reviseCredential({ title: 'x' }))
          .thenThrows('CREDENTIAL_RETIRED', { kind: 'conflict' });
        given([credentialCreated, credentialRetired]).when(retireCredential()).thenThrows('CREDENTIAL_RETIRED');
      });
    });
  });

  test('an id already used by another kind of catalog entry is refused', () => {
    given([roleCreated])
      .when(createQuestion({ question_id: roleId }))
      .thenThrows('CATALOG_ID_IN_USE', { kind: 'conflict', message: /is the id of a role, not of a question/ });
  });

  describe('evolve', () => {
    test('each kind of entry keeps its own state', () => {
      expect(stateAfter(catalogDecider, [roleCreated, roleRetired]).role).toMatchObject({
        status: 'retired',
        name: 'Cloud engineer',
      });
      expect(stateAfter(catalogDecider, [questionCreated, questionRevised('2', { weight: 5 })]).question).toMatchObject(
        { status: 'active', version: '2', weight: 5 },
      );
      expect(
        stateAfter(catalogDecider, [
          credentialCreated,
          { type: 'CredentialRevised', data: { ...credentialCreated.data, title: 'CKA' } },
        ]).credential,
      ).toMatchObject({ status: 'active', title: 'CKA', revisions: 1 });
    });

    test('ignores events that do not fit the state', () => {
      expect(stateAfter(catalogDecider, [roleRetired, questionRevised('2')])).toEqual(catalogDecider.initialState());
    });
  });
});
