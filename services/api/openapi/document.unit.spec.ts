import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { API_PREFIX, openApiDocument } from './document';
import { toDraft7 } from './contract';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const doc = openApiDocument as unknown as JsonObject;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const DOC_ID = 'https://microcred.local/openapi.json';

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: Json | undefined, where: string): JsonObject {
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  return value;
}

/** Resolves a local JSON pointer (`#/a/b`) in the document, or undefined. */
function resolvePointer(ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Follows `$ref`s until a concrete object. */
function deref(value: Json | undefined, where: string): JsonObject {
  let node = obj(value, where);
  for (let hops = 0; typeof node.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`${where}: $ref loop`);
    node = obj(resolvePointer(node.$ref), `${where} -> ${node.$ref}`);
  }
  return node;
}

function collectRefs(node: Json, path: string, out: Array<{ ref: string; at: string }>): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => collectRefs(item, `${path}/${i}`, out));
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push({ ref: value, at: path });
      else collectRefs(value, `${path}/${key}`, out);
    }
  }
}

interface Operation {
  path: string;
  method: string;
  op: JsonObject;
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(obj(doc.paths, 'paths'))) {
    for (const [method, op] of Object.entries(obj(item, path))) {
      if (METHODS.includes(method)) out.push({ path, method, op: obj(op, `${method} ${path}`) });
    }
  }
  return out;
}

const isPublic = (op: JsonObject) => Array.isArray(op.security) && op.security.length === 0;
const name = ({ method, path }: Operation) => `${method.toUpperCase()} ${path}`;
const responsesOf = (o: Operation) => obj(o.op.responses, `${name(o)} responses`);

function makeAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const components = obj(doc.components, 'components');
  ajv.addSchema({ $id: DOC_ID, components: { schemas: toDraft7(obj(components.schemas, 'schemas')) } });
  return ajv;
}

const schemaNames = Object.keys(obj(obj(doc.components, 'components').schemas, 'schemas'));

describe('openApiDocument', () => {
  it('is an OpenAPI 3.0.3 document served under /api/v1', () => {
    expect(doc.openapi).toBe('3.0.3');
    expect(obj(doc.info, 'info')).toMatchObject({ title: 'microcred API', version: '1.0.0' });
    expect(API_PREFIX).toBe('/api/v1');
    expect(doc.servers).toEqual([expect.objectContaining({ url: API_PREFIX })]);
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(deref(doc.components, 'components').securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
  });

  it('is plain JSON (survives a JSON round trip unchanged)', () => {
    expect(JSON.parse(JSON.stringify(openApiDocument))).toEqual(openApiDocument);
  });

  it('documents errors, auth, rate limits, idempotency and CommandPending in its description', () => {
    const text = String(obj(doc.info, 'info').description);
    for (const needle of [
      'error_code',
      'Bearer',
      '60 requests per minute',
      'Retry-After',
      'Idempotency-Key',
      'status_url',
    ]) {
      expect(text).toContain(needle);
    }
  });

  it('resolves every $ref', () => {
    const refs: Array<{ ref: string; at: string }> = [];
    collectRefs(doc, '#', refs);
    expect(refs.length).toBeGreaterThan(50);
    const dangling = refs.filter(({ ref }) => resolvePointer(ref) === undefined);
    expect(dangling).toEqual([]);
  });

  it('keeps every path of the seed and adds the new ones', () => {
    expect(Object.keys(obj(doc.paths, 'paths')).sort()).toEqual(
      [
        '/assessments/start',
        '/assessments/{assessment_id}/responses',
        '/assessments/{assessment_id}',
        '/assessments/{assessment_id}/result',
        '/recommendations/{recommendation_id}/feedback',
        '/catalog/credentials',
        '/auth/register',
        '/auth/token',
        '/admin/users',
        '/catalog/roles',
        '/catalog/roles/{role_id}',
        '/catalog/roles/{role_id}/questions',
        '/catalog/questions',
        '/catalog/questions/{question_id}',
        '/catalog/credentials/{credential_id}',
        '/catalog/documents',
        '/catalog/documents/{document_id}',
        '/assessments/{assessment_id}/history',
        '/assessments/{assessment_id}/essays',
        '/assessments/{assessment_id}/essays/{question_id}/override',
        '/catalog/questions/{question_id}/scored-examples',
        '/dashboards/assessments',
        '/dashboards/metrics',
        '/dashboards/feedback',
        '/admin/webhooks',
        '/admin/webhooks/{id}',
        '/admin/webhooks/{id}/rotate-secret',
        '/admin/webhooks/{id}/deliveries',
        '/admin/webhooks/{id}/deliveries/{delivery_id}',
        '/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver',
        '/admin/webhooks/{id}/redeliver-dead-letters',
        '/admin/webhooks/{id}/test',
        '/admin/projections',
        '/admin/projections/{name}/rebuild',
        '/admin/projections/rebuilds/{id}',
        '/admin/projections/rebuilds/{id}/resume',
        '/commands/{command_id}',
        '/healthz',
        '/readyz',
      ].sort(),
    );
  });

  it('keeps every schema of the seed', () => {
    for (const seed of [
      'AssessmentStartRequest',
      'AssessmentStartResponse',
      'QuestionSnapshot',
      'AssessmentResponseBatch',
      'AssessmentResponseItem',
      'AssessmentSubmissionAck',
      'AssessmentStatus',
      'AssessmentResult',
      'RecommendationItem',
      'RagTrace',
      'ProcessingMetrics',
      'RecommendationFeedbackRequest',
      'CredentialList',
      'Credential',
      'ErrorResponse',
    ]) {
      expect(schemaNames).toContain(seed);
    }
  });

  it('gives every operation a unique camelCase operationId, a summary and declared tags', () => {
    const declaredTags = (doc.tags as JsonObject[]).map((t) => t.name);
    const ids = operations().map((o) => {
      expect({ op: name(o), id: o.op.operationId }).toEqual({
        op: name(o),
        id: expect.stringMatching(/^[a-z][a-zA-Z0-9]*$/),
      });
      expect(typeof o.op.summary === 'string' && o.op.summary.length > 0).toBe(true);
      expect(Array.isArray(o.op.tags) && o.op.tags.length > 0).toBe(true);
      for (const tag of o.op.tags as string[]) expect(declaredTags).toContain(tag);
      return o.op.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(['startAssessment', 'registerUser', 'issueToken', 'listRoles', 'createRole']),
    );
  });

  it('declares every path parameter of every templated path', () => {
    for (const o of operations()) {
      const declared = ((o.op.parameters as Json[] | undefined) ?? [])
        .map((p) => deref(p, `${name(o)} parameter`))
        .filter((p) => p.in === 'path')
        .map((p) => p.name);
      const templated = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect({ op: name(o), params: declared.sort() }).toEqual({ op: name(o), params: templated.sort() });
    }
  });

  it('answers at least one 2xx, and ErrorResponse on every 4xx/5xx', () => {
    for (const o of operations()) {
      const codes = Object.keys(responsesOf(o));
      expect({ op: name(o), has2xx: codes.some((c) => /^2\d\d$/.test(c)) }).toEqual({ op: name(o), has2xx: true });
      for (const code of codes.filter((c) => /^[45]\d\d$/.test(c))) {
        // The readiness probe reports its dependencies in its 503, by design.
        if (o.path === '/readyz' && code === '503') continue;
        const res = deref(responsesOf(o)[code], `${name(o)} ${code}`);
        const body = obj(obj(res.content, `${name(o)} ${code} content`)['application/json'], `${name(o)} ${code}`);
        expect({ op: name(o), code, schema: body.schema }).toEqual({
          op: name(o),
          code,
          schema: { $ref: '#/components/schemas/ErrorResponse' },
        });
      }
    }
  });

  it('has exactly four public operations; every other one answers 401 and 429 with Retry-After', () => {
    const publicOps = operations().filter((o) => isPublic(o.op));
    expect(publicOps.map((o) => o.op.operationId).sort()).toEqual(
      ['getHealth', 'getReadiness', 'issueToken', 'registerUser'].sort(),
    );
    for (const o of operations().filter((x) => !isPublic(x.op))) {
      expect(o.op.security).toBeUndefined();
      const responses = responsesOf(o);
      expect({ op: name(o), codes: Object.keys(responses) }).toEqual({
        op: name(o),
        codes: expect.arrayContaining(['401', '429']),
      });
      const tooMany = deref(responses['429'], `${name(o)} 429`);
      const retryAfter = deref(obj(tooMany.headers, `${name(o)} 429 headers`)['Retry-After'], 'Retry-After');
      expect(retryAfter).toMatchObject({ required: true, schema: { type: 'integer' } });
    }
  });

  it('answers 409, 422 and 503 on every authenticated write', () => {
    const writes = operations().filter((o) => ['post', 'put', 'delete'].includes(o.method) && !isPublic(o.op));
    expect(writes.length).toBe(27);
    // An operator's action on webhook deliveries or projection rebuilds is not a command: there is
    // no domain to refuse it (422).
    const deliveryActions = [
      'redeliverWebhookDelivery',
      'redeliverWebhookDeadLetters',
      'sendWebhookTest',
      'rebuildProjection',
      'resumeProjectionRebuild',
      'cancelProjectionRebuild',
    ];
    for (const o of writes) {
      const expected = deliveryActions.includes(String(o.op.operationId)) ? ['409', '503'] : ['409', '422', '503'];
      expect({ op: name(o), codes: Object.keys(responsesOf(o)) }).toEqual({
        op: name(o),
        codes: expect.arrayContaining(expected),
      });
    }
  });

  it('answers 403 where roles restrict', () => {
    const restricted = operations().filter(
      (o) => o.path.startsWith('/admin') || (o.path.startsWith('/catalog') && o.method !== 'get'),
    );
    for (const o of [
      ...restricted,
      ...operations().filter((x) =>
        [
          'listRoleQuestions',
          'getAssessmentStatus',
          'getAssessmentHistory',
          'submitAssessmentResponses',
          'listEssayScores',
          'overrideEssayScore',
          'getScoredExamplesSummary',
          'getCommandStatus',
          'listDashboardAssessments',
          'getDashboardMetrics',
          'getDashboardFeedback',
        ].includes(String(x.op.operationId)),
      ),
    ]) {
      expect({ op: name(o), codes: Object.keys(responsesOf(o)) }).toEqual({
        op: name(o),
        codes: expect.arrayContaining(['403']),
      });
    }
  });

  it('takes an optional Idempotency-Key on start and on responses', () => {
    const key = deref({ $ref: '#/components/parameters/IdempotencyKey' }, 'IdempotencyKey');
    expect(key).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: false });
    expect(key.schema).toEqual({ type: 'string', minLength: 1, maxLength: 255 });
    for (const o of operations().filter((x) =>
      ['startAssessment', 'submitAssessmentResponses'].includes(String(x.op.operationId)),
    )) {
      expect(o.op.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    }
  });

  it('serves /healthz and /readyz at the root, outside /api/v1', () => {
    const paths = obj(doc.paths, 'paths');
    for (const probe of ['/healthz', '/readyz']) {
      expect(obj(paths[probe], probe).servers).toEqual([expect.objectContaining({ url: '/' })]);
    }
  });

  it('keeps the seed query parameters of GET /catalog/credentials', () => {
    const list = operations().find((o) => o.op.operationId === 'listCredentials');
    expect(list?.op.parameters).toEqual([
      // The seed's parameters, with the bounds the server enforces (a UUID, at most page 1,000,000).
      expect.objectContaining({
        in: 'query',
        name: 'role_id',
        schema: expect.objectContaining({ type: 'string', format: 'uuid' }),
      }),
      expect.objectContaining({
        in: 'query',
        name: 'page',
        schema: expect.objectContaining({ type: 'integer', minimum: 1, default: 1 }),
      }),
      expect.objectContaining({
        in: 'query',
        name: 'page_size',
        schema: { type: 'integer', minimum: 10, maximum: 100, default: 25 },
      }),
    ]);
  });

  describe('component schemas', () => {
    const ajv = makeAjv();
    const validator = (schemaName: string): ValidateFunction =>
      ajv.compile({ $ref: `${DOC_ID}#/components/schemas/${schemaName}` });

    it.each(schemaNames)('%s compiles with Ajv', (schemaName) => {
      expect(() => validator(schemaName)).not.toThrow();
    });

    const cases: Array<[string, string, unknown, boolean]> = [
      [
        'AssessmentResponseBatch',
        'a valid batch',
        { responses: [{ question_id: 'q1', answer: 'B' }], completed: true },
        true,
      ],
      [
        'AssessmentResponseBatch',
        'number and object answers',
        {
          responses: [
            { question_id: 'q1', answer: 3 },
            { question_id: 'q2', answer: { years: 4 } },
          ],
        },
        true,
      ],
      [
        'AssessmentResponseBatch',
        'an extra field',
        { responses: [{ question_id: 'q1', answer: 'B' }], extra: 1 },
        false,
      ],
      ['AssessmentResponseBatch', 'no responses', { responses: [] }, false],
      [
        'AssessmentResponseBatch',
        'an extra field in an item',
        { responses: [{ question_id: 'q', answer: 'B', x: 1 }] },
        false,
      ],
      ['AssessmentResponseBatch', 'a boolean answer', { responses: [{ question_id: 'q1', answer: true }] }, false],
      [
        'AssessmentStartRequest',
        'open metadata',
        { role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11', metadata: { source: 'web', any: { thing: 1 } } },
        true,
      ],
      [
        'AssessmentStartRequest',
        'an unknown field',
        { role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11', cohort: 'x' },
        false,
      ],
      ['AssessmentStartRequest', 'a role_id that is not a UUID', { role_id: 'r1' }, false],
      ['RegisterRequest', 'email and password', { email: 'ada@example.com', password: 's3cret-enough' }, true],
      ['RegisterRequest', 'no password', { email: 'ada@example.com' }, false],
      ['RegisterRequest', 'a bad email', { email: 'not-an-email', password: 'x' }, false],
      [
        'RegisterRequest',
        'a role (not allowed on self-registration)',
        { email: 'a@b.co', password: 'x', role: 'admin' },
        false,
      ],
      ['CreateUserRequest', 'an advisor', { email: 'a@b.co', password: 'Advis0r-password-1', role: 'advisor' }, true],
      ['CreateUserRequest', 'a password too short', { email: 'a@b.co', password: 'x', role: 'advisor' }, false],
      ['CreateUserRequest', 'an unknown role', { email: 'a@b.co', password: 'x', role: 'root' }, false],
      ['TokenResponse', 'a bearer token', { access_token: 'eyJ', token_type: 'bearer', expires_in: 3600 }, true],
      ['TokenResponse', 'another token type', { access_token: 'eyJ', token_type: 'mac', expires_in: 3600 }, false],
      [
        'CredentialList',
        'a sample page',
        {
          items: [
            {
              credential_id: 'c1',
              title: 'AWS Cloud Practitioner',
              description: 'Cloud fundamentals',
              skills: ['aws', 'cloud'],
              provider: 'AWS',
              metadata: { hours: 20 },
              active: true,
            },
            { credential_id: 'c2', title: 'SQL Basics', description: 'Queries', skills: ['sql'] },
          ],
          page: 1,
          page_size: 25,
          total: 2,
        },
        true,
      ],
      [
        'CredentialList',
        'a credential without skills',
        { items: [{ credential_id: 'c', title: 't', description: 'd' }], page: 1, page_size: 25, total: 1 },
        false,
      ],
      ['CredentialInput', 'a credential', { title: 'T', description: '', skills: ['a'], metadata: { level: 1 } }, true],
      ['CredentialInput', 'no skills', { title: 'T', description: '', skills: [] }, false],
      [
        'RoleInput',
        'a role',
        { name: 'Data Analyst', skills_profile: [{ skill: 'sql', level: 3, weight: 0.5 }] },
        true,
      ],
      ['RoleInput', 'an empty skills profile', { name: 'Data Analyst', skills_profile: [] }, false],
      ['RoleInput', 'a name too long', { name: 'x'.repeat(65), skills_profile: [{ skill: 'sql' }] }, false],
      [
        'Role',
        'a role with null description',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          name: 'Data Analyst',
          description: null,
          skills_profile: [{ skill: 'sql' }],
          active: true,
          question_count: 12,
        },
        true,
      ],
      [
        'QuestionInput',
        'a multiple-choice question',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          question_type: 'multiple_choice',
          prompt: 'Pick one',
          choices: ['a', 'b'],
          rubric: { scoring: 'choice', select: 'single', correct: ['a'] },
          weight: 100,
        },
        true,
      ],
      [
        'QuestionInput',
        'a multiple-choice question with an essay rubric',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          question_type: 'multiple_choice',
          prompt: 'Pick one',
          choices: ['a', 'b'],
          rubric: { scoring: 'essay', criteria: [] },
          weight: 100,
        },
        false,
      ],
      [
        'QuestionInput',
        'a zero weight',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          question_type: 'essay',
          prompt: 'Why?',
          rubric: {},
          weight: 0,
        },
        false,
      ],
      [
        'QuestionInput',
        'a weight above 100',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          question_type: 'essay',
          prompt: 'Why?',
          rubric: {},
          weight: 100.5,
        },
        false,
      ],
      [
        'QuestionRevisionInput',
        'a revision with null choices',
        {
          question_type: 'essay',
          prompt: 'Why?',
          choices: null,
          rubric: {
            scoring: 'essay',
            criteria: [
              {
                id: 'c',
                description: 'Clarity',
                weight: 1,
                bands: [
                  { score: 0, descriptor: 'Unclear' },
                  { score: 1, descriptor: 'Clear' },
                ],
              },
            ],
          },
          weight: 2,
          required: false,
        },
        true,
      ],
      [
        'QuestionRevisionInput',
        'a revision that moves the question to another role',
        {
          role_id: '3f1c2a3e-8d0b-4b7e-9a52-1d6f0c3b2a11',
          question_type: 'essay',
          prompt: 'Why?',
          rubric: {},
          weight: 2,
        },
        false,
      ],
      [
        'CommandStatus',
        'a pending command with null error',
        { command_id: 'c1', status: 'pending', error: null },
        true,
      ],
      [
        'CommandStatus',
        'a rejected command with its error',
        { command_id: 'c1', status: 'rejected', error: { error_code: 'CONFLICT', message: 'no' } },
        true,
      ],
      [
        'CommandStatus',
        'an error without error_code',
        { command_id: 'c1', status: 'rejected', error: { message: 'no' } },
        false,
      ],
      [
        'CommandPending',
        'a pending answer',
        { command_id: 'c', status: 'pending', status_url: '/api/v1/commands/c', message: 'm' },
        true,
      ],
      [
        'ErrorResponse',
        'an error with details',
        { error_code: 'BAD_REQUEST', message: 'm', details: { field: 'x' } },
        true,
      ],
      ['ErrorResponse', 'an error without message', { error_code: 'BAD_REQUEST' }, false],
      [
        'AssessmentHistory',
        'a timeline',
        {
          assessment_id: 'a1',
          events: [
            {
              event_id: 'e1',
              type: 'AssessmentStarted',
              version: 1,
              occurred_at: '2025-01-01T10:00:00Z',
              actor: { id: 'u1', role: 'student' },
              summary: 'Started',
            },
          ],
        },
        true,
      ],
      ['RecommendationFeedbackRequest', 'a score of 6', { relevance_score: 6 }, false],
      ['EssayOverrideRequest', 'a score and a reason', { score: 3.5, reason: 'Evidence of a canary rollout' }, true],
      ['EssayOverrideRequest', 'no reason', { score: 3 }, false],
      ['EssayOverrideRequest', 'a blank reason', { score: 3, reason: '   ' }, false],
      ['EssayOverrideRequest', 'a reason too long', { score: 3, reason: 'x'.repeat(2001) }, false],
      ['EssayOverrideRequest', 'a negative score', { score: -1, reason: 'r' }, false],
      [
        'ScoredExamplesImportRequest',
        'two examples',
        {
          examples: [
            { text: 'a', score: 1 },
            { text: 'b', score: 0 },
          ],
        },
        true,
      ],
      ['ScoredExamplesImportRequest', 'no examples', { examples: [] }, false],
      ['ScoredExamplesImportRequest', 'an example without score', { examples: [{ text: 'a' }] }, false],
      [
        'AssessmentStatus',
        'a status with its scoring progress',
        {
          assessment_id: 'a1',
          status: 'awaiting_async',
          progress: { answered: 2, total: 2 },
          degraded: false,
          scoring: {
            questions: [
              {
                question_id: 'q1',
                type: 'essay',
                status: 'pending',
                score: null,
                max_score: 5,
                provider: null,
                degraded: false,
                needs_review: false,
                job: { status: 'retrying', attempts: 2, next_retry_at: '2025-01-01T10:00:00Z', last_error: 'timeout' },
              },
              {
                question_id: 'q2',
                type: 'multiple_choice',
                status: 'rule_scored',
                score: 2,
                max_score: 2,
                provider: null,
                degraded: false,
                needs_review: false,
              },
            ],
            essays_pending: 1,
          },
        },
        true,
      ],
      [
        'ReadinessReport',
        'a not-ready report',
        {
          status: 'not_ready',
          dependencies: { kafka: 'ok', registry: 'ok', postgres: 'timeout', elasticsearch: 'ok' },
        },
        true,
      ],
    ];

    it.each(
      cases.map(
        ([schemaName, label, payload, valid]) =>
          [schemaName, label, valid ? 'passes' : 'fails', payload, valid] as const,
      ),
    )('%s: %s %s', (schemaName, _label, _outcome, payload, valid) => {
      const validate = validator(schemaName);
      expect({ valid: validate(payload), errors: validate.errors ?? null }).toEqual(
        valid ? { valid: true, errors: null } : { valid: false, errors: expect.any(Array) },
      );
    });

    it('accepts either an ack or a CommandPending as the 202 of submitAssessmentResponses', () => {
      const submit = operations().find((o) => o.op.operationId === 'submitAssessmentResponses');
      if (!submit) throw new Error('submitAssessmentResponses missing');
      const accepted = obj(obj(responsesOf(submit)['202'], '202').content, '202 content');
      expect(obj(accepted['application/json'], 'json').schema).toEqual({
        oneOf: [
          { $ref: '#/components/schemas/AssessmentSubmissionAck' },
          { $ref: '#/components/schemas/CommandPending' },
        ],
      });
      const viaDoc = ajv.compile({
        oneOf: [
          { $ref: `${DOC_ID}#/components/schemas/AssessmentSubmissionAck` },
          { $ref: `${DOC_ID}#/components/schemas/CommandPending` },
        ],
      });
      expect(viaDoc({ assessment_id: 'a', status: 'awaiting_async', async_job_enqueued: true })).toBe(true);
      expect(viaDoc({ command_id: 'c', status: 'pending', status_url: '/api/v1/commands/c', message: 'm' })).toBe(true);
      expect(viaDoc({ status: 'pending' })).toBe(false);
    });
  });
});
