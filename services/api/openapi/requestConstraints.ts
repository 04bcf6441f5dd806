import { schema } from './helpers';

/**
 * What the server enforces on request bodies and parameters, stated as schema: a client
 * generated from the document never sends what the server refuses as malformed. The domain's
 * validators (domain/catalog/decide.ts, domain/assessment/rubric.ts, questionDefinition.ts,
 * services/api/auth/passwordPolicy.ts) are the authority; `constraints.unit.spec.ts` checks the
 * two agree on each boundary. Where a rule cannot be a JSON-schema keyword (it compares two
 * fields, or ignores case), the description says so and the schema is as close as it can be.
 *
 * Patterns are ECMA-262 with the `u` flag (Ajv's default), e.g. `\p{L}` for any letter.
 */

/** No control character (U+0000–U+001F, U+007F): one line of text. */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F]*$';
/** At least one character that is not white space (the server trims, then refuses "" ). */
export const NOT_BLANK = '\\S';
/** One line of text with at least one character that is not white space. */
export const LINE_NOT_BLANK = '^[^\\u0000-\\u001F\\u007F]*[^\\s\\u0000-\\u001F\\u007F][^\\u0000-\\u001F\\u007F]*$';
/** A UUID of a version from 1 to 8 and the RFC 4122 variant, as the server's `isUuid` takes it. */
export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';

/** A UUID the server will take (`format: uuid` alone also admits `urn:uuid:` and the nil UUID). */
export const uuidInput = { type: 'string', format: 'uuid', pattern: UUID_PATTERN } as const;

/** A name or title: trimmed by the server, not blank, one line, at most `max` characters. */
export const lineOfText = (max: number) =>
  ({
    type: 'string',
    minLength: 1,
    maxLength: max,
    pattern: LINE_NOT_BLANK,
    description: `1 to ${max} characters, one line (no control characters U+0000–U+001F or U+007F), not blank`,
  }) as const;

/** A string the server trims and refuses when blank. */
export const nonBlankString = { type: 'string', minLength: 1, pattern: NOT_BLANK } as const;

/** services/api/auth/passwordPolicy.ts as schema (what JSON Schema can say of it). */
export const newPassword = {
  type: 'string',
  minLength: 12,
  maxLength: 72,
  pattern: '^(?=[\\s\\S]*\\p{L})(?=[\\s\\S]*\\p{N})(?!(.)\\1+$)',
  description:
    'At least 12 characters, at least one letter and one digit (any script: Unicode classes L and N), not one character repeated. ' +
    'At most 72 bytes in UTF-8 (bcrypt reads no more): 72 ASCII characters, fewer with accented or non-Latin ones — ' +
    '`maxLength` can only bound characters, so a password of 72 characters or fewer may still be refused for its bytes. ' +
    'It must not contain the part of the email before "@" when that part is 4 characters or longer (case-insensitively): ' +
    'a rule across two fields that JSON Schema cannot state. A password breaking a rule is answered 422 WEAK_PASSWORD.',
} as const;

// ---- Rubrics (domain/assessment/rubric.ts, RUBRICS.md) ----------------------------------------

/** A field of the answer: a name or dotted path, no empty segment ("experience.years"). */
const fieldPath = {
  type: 'string',
  pattern: '^[^.]*[^.\\s][^.]*(?:\\.[^.]*[^.\\s][^.]*)*$',
  description: 'A field of the answer: a name or dotted path such as "experience.years" (no empty segment)',
} as const;
const synonyms = { type: 'array', items: nonBlankString } as const;
const positive = { type: 'number', minimum: 0, exclusiveMinimum: true } as const;
const ruleBase = {
  id: { ...nonBlankString, description: 'Unique among the rubric’s rules' },
  points: { type: 'number', minimum: 0, description: 'Rubric points the rule is worth' },
  description: { type: 'string' },
} as const;

const ChoiceRubric = {
  type: 'object',
  description:
    'The rubric of a multiple_choice question. Beyond the schema: each `correct` entry and each `option_weights` key must be one of the question’s choices, and a correct choice’s option weight must be above 0 (422 INVALID_RUBRIC).',
  required: ['scoring', 'select', 'correct'],
  additionalProperties: false,
  properties: {
    scoring: { type: 'string', enum: ['choice'] },
    select: { type: 'string', enum: ['single', 'multiple'] },
    correct: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' } },
    option_weights: { type: 'object', additionalProperties: { type: 'number' } },
    partial_credit: { type: 'boolean', description: 'Only with select "multiple"' },
    wrong_penalty: { type: 'number', minimum: 0 },
    min_score: { type: 'number', minimum: -1, maximum: 0 },
    description: { type: 'string' },
  },
  not: {
    description: 'partial_credit applies only to select "multiple"',
    required: ['select', 'partial_credit'],
    properties: { select: { enum: ['single'] } },
  },
} as const;

const EssayRubric = {
  type: 'object',
  description:
    'The rubric of an essay question. Beyond the schema: criterion ids are unique, band scores are unique within a criterion, and min_words is at most max_words (422 INVALID_RUBRIC).',
  required: ['scoring', 'criteria'],
  additionalProperties: false,
  properties: {
    scoring: { type: 'string', enum: ['essay'] },
    criteria: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'description', 'weight', 'bands'],
        additionalProperties: false,
        properties: {
          id: nonBlankString,
          description: nonBlankString,
          weight: positive,
          bands: {
            type: 'array',
            minItems: 2,
            items: {
              type: 'object',
              required: ['score', 'descriptor'],
              additionalProperties: false,
              properties: { score: { type: 'number', minimum: 0 }, descriptor: nonBlankString },
            },
          },
        },
      },
    },
    min_words: { type: 'integer', minimum: 1 },
    max_words: { type: 'integer', minimum: 1 },
    description: { type: 'string' },
  },
} as const;

const ProfileSkillsRule = {
  type: 'object',
  description: 'Beyond the schema: the expected skills are unique, case-insensitively after trimming.',
  required: ['id', 'type', 'points', 'field', 'expected'],
  additionalProperties: false,
  properties: {
    ...ruleBase,
    type: { type: 'string', enum: ['skills'] },
    field: fieldPath,
    expected: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          nonBlankString,
          {
            type: 'object',
            required: ['skill'],
            additionalProperties: false,
            properties: { skill: nonBlankString, synonyms, weight: positive },
          },
        ],
      },
    },
    match: { type: 'string', enum: ['proportional', 'any', 'all'] },
  },
} as const;

const ProfileKeywordsRule = {
  type: 'object',
  description: 'Beyond the schema: min_matches is at most the number of terms.',
  required: ['id', 'type', 'points', 'field', 'terms'],
  additionalProperties: false,
  properties: {
    ...ruleBase,
    type: { type: 'string', enum: ['keywords'] },
    field: fieldPath,
    terms: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          nonBlankString,
          {
            type: 'object',
            required: ['term'],
            additionalProperties: false,
            properties: { term: nonBlankString, synonyms },
          },
        ],
      },
    },
    min_matches: { type: 'integer', minimum: 1 },
    partial_credit: { type: 'boolean' },
  },
} as const;

const ProfileRangeRule = {
  type: 'object',
  description: 'Beyond the schema: in each band min is below max, and bands ([min, max)) do not overlap.',
  required: ['id', 'type', 'points', 'field', 'bands'],
  additionalProperties: false,
  properties: {
    ...ruleBase,
    type: { type: 'string', enum: ['range'] },
    field: fieldPath,
    bands: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['credit'],
        additionalProperties: false,
        anyOf: [{ required: ['min'] }, { required: ['max'] }],
        properties: {
          min: { type: 'number' },
          max: { type: 'number' },
          credit: { type: 'number', minimum: 0, maximum: 1 },
          label: { type: 'string' },
        },
      },
    },
  },
} as const;

const ProfileRequiredRule = {
  type: 'object',
  required: ['id', 'type', 'points', 'fields'],
  additionalProperties: false,
  properties: {
    ...ruleBase,
    type: { type: 'string', enum: ['required'] },
    fields: { type: 'array', minItems: 1, uniqueItems: true, items: fieldPath },
  },
} as const;

const ProfileRubric = {
  type: 'object',
  description:
    'The rubric of a profile question. Beyond the schema: rule ids are unique and the rules are worth more than 0 points in total (422 INVALID_RUBRIC).',
  required: ['scoring', 'rules'],
  additionalProperties: false,
  properties: {
    scoring: { type: 'string', enum: ['profile'] },
    rules: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: [
          schema('ProfileSkillsRule'),
          schema('ProfileKeywordsRule'),
          schema('ProfileRangeRule'),
          schema('ProfileRequiredRule'),
        ],
        discriminator: {
          propertyName: 'type',
          mapping: {
            skills: '#/components/schemas/ProfileSkillsRule',
            keywords: '#/components/schemas/ProfileKeywordsRule',
            range: '#/components/schemas/ProfileRangeRule',
            required: '#/components/schemas/ProfileRequiredRule',
          },
        },
      },
    },
    description: { type: 'string' },
  },
} as const;

export const rubricSchemas = {
  ChoiceRubric,
  EssayRubric,
  ProfileRubric,
  ProfileSkillsRule,
  ProfileKeywordsRule,
  ProfileRangeRule,
  ProfileRequiredRule,
} as const;

// ---- Questions (domain/assessment/questionDefinition.ts) --------------------------------------

const choices = {
  type: 'array',
  minItems: 2,
  uniqueItems: true,
  items: nonBlankString,
  description: 'At least 2 options, none blank, none repeated (compared after trimming)',
} as const;
const noChoices = { type: 'array', nullable: true, enum: [null], description: 'null or absent' } as const;

/**
 * The per-type structure of a question body (`oneOf` on `question_type`): the rubric's shape
 * follows the type, a multiple_choice question has choices, the others none. `choicesRequired`
 * is false for a revision, which keeps the current choices of a multiple_choice question.
 */
export const questionTypeVariants = (choicesRequired: boolean) =>
  [
    {
      title: 'multiple_choice',
      ...(choicesRequired ? { required: ['choices'] } : {}),
      properties: {
        question_type: { type: 'string', enum: ['multiple_choice'] },
        choices,
        rubric: schema('ChoiceRubric'),
      },
    },
    {
      title: 'essay',
      properties: {
        question_type: { type: 'string', enum: ['essay'] },
        choices: noChoices,
        rubric: schema('EssayRubric'),
      },
    },
    {
      title: 'profile',
      properties: {
        question_type: { type: 'string', enum: ['profile'] },
        choices: noChoices,
        rubric: schema('ProfileRubric'),
      },
    },
  ] as const;
