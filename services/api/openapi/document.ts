import { essayPaths, essaySchemas } from '../assessments/essayContract';
import { historyPaths, historySchemas } from '../assessments/historyContract';
import { documentPaths, documentSchemas } from '../catalog/documentsContract';
import { scoredExamplesPaths, scoredExamplesSchemas } from '../catalog/scoredExamplesContract';
import { dashboardPaths, dashboardSchemas } from '../dashboards/dashboardContract';
import { recommendationPaths, recommendationSchemas } from '../recommendations/recommendationContract';
import { webhookDeliveryPaths, webhookDeliverySchemas } from '../webhooks/deliveryContract';
import { projectionPaths, projectionSchemas } from '../projections/projectionContract';
import { webhookSubscriptionPaths, webhookSubscriptionSchemas } from '../webhooks/subscriptionContract';
import {
  JSON_MEDIA,
  authenticatedErrors,
  dateTime,
  errorResponse,
  jsonBody,
  jsonResponse,
  openObject,
  parameter,
  response,
  schema,
  uuid,
} from './helpers';
import {
  NOT_BLANK,
  lineOfText,
  newPassword,
  nonBlankString,
  questionTypeVariants,
  rubricSchemas,
  uuidInput,
} from './requestConstraints';

/**
 * The public HTTP contract of microcred, as an OpenAPI 3.0.3 document.
 *
 * It keeps every path, parameter, schema and status of the seed contract
 * (seeds/001, "REST API Spec") and adds what the service really does: the error body on
 * every 4xx/5xx, authentication and rate-limit answers, idempotency keys, the 202
 * `CommandPending` answer of a slow write, identity, catalog administration, assessment
 * history and command status. Paths are relative to the server url `API_PREFIX`, except
 * `/healthz` and `/readyz`, which override `servers` to sit at the root.
 *
 * Schemas are OpenAPI 3.0 schema objects, not plain JSON Schema: `nullable: true` (Ajv 8
 * understands it natively) and boolean `exclusiveMinimum` (draft-04 style: convert it to
 * the numeric form before handing a schema to Ajv's default draft-07 dialect).
 */

export const API_PREFIX = '/api/v1';

const email = { type: 'string', format: 'email', maxLength: 254 };
const password = { type: 'string', minLength: 1, maxLength: 1024 };
const userRole = { type: 'string', enum: ['student', 'advisor', 'admin'] };
const questionType = { type: 'string', enum: ['multiple_choice', 'essay', 'profile'] };

const questionFields = {
  question_type: questionType,
  prompt: {
    type: 'string',
    minLength: 1,
    maxLength: 4000,
    pattern: NOT_BLANK,
    description: 'Not blank; may span lines',
  },
  choices: {
    type: 'array',
    items: nonBlankString,
    nullable: true,
    description: 'multiple_choice: at least 2 distinct options; essay and profile: null or absent',
  },
  rubric: {
    type: 'object',
    description:
      'Its shape follows question_type (see RUBRICS.md): ChoiceRubric for multiple_choice, EssayRubric for essay, ProfileRubric for profile',
  },
  weight: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 100 },
  required: { type: 'boolean', default: true },
};

const description = `microcred runs role-based skill assessments, scores them and recommends micro-credentials with evidence.

**Errors.** Every 4xx and 5xx answer has the body \`ErrorResponse\`: \`{"error_code": string, "message": string, "details"?: object}\`. \`error_code\` is stable and meant for programs; \`message\` is for people.

**Authentication.** Obtain a JWT from \`POST /auth/token\` and send it as \`Authorization: Bearer <token>\`. Every operation requires it unless it declares \`security: []\` (registration, token issuance, \`/healthz\`, \`/readyz\`). A missing, expired or invalid token is answered 401; a role that may not perform the operation, 403.

**Rate limits.** Each user may make 60 requests per minute by default. Beyond that the API answers 429 with a \`Retry-After\` header giving the number of seconds to wait.

**Sign-in throttling.** After 10 failed sign-ins for one email within 15 minutes (by default), \`POST /auth/token\` answers 429 \`ACCOUNT_LOCKED\` with \`Retry-After\` for 15 minutes, even with the right password; unregistered emails are treated the same, and a sign-in takes as long whether or not the email is registered. A successful sign-in restarts the count.

**Browsers.** Cross-origin calls are allowed only from the origins the deployment lists (\`CORS_ORIGINS\`); they may send \`Authorization\`, \`Content-Type\`, \`Idempotency-Key\` and \`X-Correlation-Id\`, and read \`Retry-After\` and \`X-Correlation-Id\`.

**Idempotency.** Operations that accept an \`Idempotency-Key\` header treat a retry carrying the same key (from the same user) as the same command: it returns the outcome of the first attempt and writes nothing. Keys are remembered for 24 hours by default (\`IDEMPOTENCY_WINDOW_SECONDS\`); a later retry is a new request. A start's assessment id derives from its key, so even a late retry of a start never creates a second assessment (it is refused with 409 \`ASSESSMENT_ALREADY_STARTED\`).

**Asynchronous writes.** Writes are commands appended to a log and decided by a single writer. When the decision takes longer than the API is willing to wait, it answers 202 with \`CommandPending\`: the command was accepted into the log and will be processed; poll its \`status_url\` (\`GET /commands/{command_id}\`) to learn whether it was accepted or rejected. When the log itself cannot take the command in that time, the answer is 503 with \`Retry-After\`: \`DEPENDENCY_UNAVAILABLE\` (not accepted) or \`COMMAND_NOT_CONFIRMED\` (it may still be processed: retry with the same \`Idempotency-Key\`, or poll \`details.status_url\`).

**Methods.** A method a path does not declare is answered 405 \`METHOD_NOT_ALLOWED\` with an \`Allow\` header listing the methods it takes (\`#/components/responses/MethodNotAllowed\`); \`OPTIONS\` answers 204 with \`Allow\`; a path that does not exist is 404 \`ROUTE_NOT_FOUND\`. Operational endpoints outside the contract: \`GET /metrics\` (Prometheus text format, unauthenticated, for the scraper).`;

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'microcred API',
    version: '1.0.0',
    description,
  },
  servers: [{ url: API_PREFIX, description: 'This deployment (relative to its origin)' }],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'Auth', description: 'Registration and token issuance' },
    { name: 'Admin', description: 'User administration (admin only)' },
    { name: 'Catalog', description: 'Roles, questions and credentials' },
    { name: 'Assessments', description: 'Taking an assessment and following its progress' },
    { name: 'Recommendations', description: 'Recommendation results and feedback' },
    { name: 'Commands', description: 'Status of asynchronously processed commands' },
    { name: 'Dashboards', description: 'Assessments, operations metrics and feedback for advisors and admins' },
    { name: 'Webhooks', description: 'Partner webhook subscriptions and their deliveries (admin only)' },
    { name: 'Projections', description: 'Read models: their lag, and their rebuilds from the event log (admin only)' },
    { name: 'Health', description: 'Liveness and readiness probes (outside /api/v1)' },
  ],
  paths: {
    '/auth/register': {
      post: {
        tags: ['Auth'],
        operationId: 'registerUser',
        summary: 'Register a student account',
        security: [],
        requestBody: jsonBody('RegisterRequest'),
        responses: {
          '201': jsonResponse('Account created', schema('UserCreatedResponse')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '409': errorResponse('Email already registered'),
          '422': errorResponse('Password too weak'),
          '429': response('TooManyRequests'),
          '500': response('InternalError'),
          '503': response('ServiceUnavailable'),
        },
      },
    },
    '/auth/token': {
      post: {
        tags: ['Auth'],
        operationId: 'issueToken',
        summary: 'Exchange email and password for an access token',
        security: [],
        requestBody: jsonBody('TokenRequest'),
        responses: {
          '200': jsonResponse('Access token issued', schema('TokenResponse')),
          '400': errorResponse('Malformed body or unknown fields'),
          '401': errorResponse('Unknown email or wrong password'),
          '429': {
            description:
              'Rate limit exceeded (RATE_LIMITED), or too many failed sign-ins for this email (ACCOUNT_LOCKED: refused, even with the right password, until Retry-After; whether or not the email is registered)',
            headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
            content: { [JSON_MEDIA]: { schema: schema('ErrorResponse') } },
          },
          '500': response('InternalError'),
          '503': response('ServiceUnavailable'),
        },
      },
    },
    '/admin/users': {
      post: {
        tags: ['Admin'],
        operationId: 'createUser',
        summary: 'Create a user with any role (admin)',
        requestBody: jsonBody('CreateUserRequest'),
        responses: {
          '201': jsonResponse('User created', schema('UserCreatedResponse')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '409': errorResponse('Email already registered'),
          '422': errorResponse('Password too weak'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/roles': {
      get: {
        tags: ['Catalog'],
        operationId: 'listRoles',
        summary: 'List the roles one can be assessed for',
        responses: {
          '200': jsonResponse('Roles', schema('RoleList')),
          ...authenticatedErrors,
        },
      },
      post: {
        tags: ['Catalog'],
        operationId: 'createRole',
        summary: 'Create a role with its skills profile (admin)',
        requestBody: jsonBody('RoleInput'),
        responses: {
          '201': jsonResponse('Role created', schema('Role')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '409': errorResponse('A role with this name already exists'),
          '422': errorResponse('Invalid skills profile'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/roles/{role_id}': {
      put: {
        tags: ['Catalog'],
        operationId: 'updateRole',
        summary: 'Replace a role’s name, description and skills profile (admin)',
        parameters: [parameter('RoleId')],
        requestBody: jsonBody('RoleInput'),
        responses: {
          '200': jsonResponse('Role updated', schema('Role')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Role not found'),
          '409': errorResponse('Role retired, or name taken by another role'),
          '422': errorResponse('Invalid skills profile'),
          ...authenticatedErrors,
        },
      },
      delete: {
        tags: ['Catalog'],
        operationId: 'retireRole',
        summary: 'Retire a role so that no new assessment can start for it (admin)',
        parameters: [parameter('RoleId')],
        responses: {
          '202': response('CommandPending'),
          '204': { description: 'Role retired' },
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Role not found'),
          '409': errorResponse('Role already retired'),
          '422': errorResponse('Role cannot be retired'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/roles/{role_id}/questions': {
      get: {
        tags: ['Catalog'],
        operationId: 'listRoleQuestions',
        summary: 'List the questions of a role (advisor, admin)',
        parameters: [parameter('RoleId')],
        responses: {
          '200': jsonResponse('Questions of the role', schema('QuestionList')),
          '403': errorResponse('Caller is neither advisor nor admin'),
          '404': errorResponse('Role not found'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/questions': {
      post: {
        tags: ['Catalog'],
        operationId: 'createQuestion',
        summary: 'Add a question to a role (admin)',
        requestBody: jsonBody('QuestionInput'),
        responses: {
          '201': jsonResponse('Question created', schema('Question')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Role not found'),
          '409': errorResponse('Role retired'),
          '422': errorResponse('Invalid question (e.g. choices missing for multiple choice, rubric invalid)'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/questions/{question_id}': {
      put: {
        tags: ['Catalog'],
        operationId: 'reviseQuestion',
        summary: 'Revise a question; creates a new version (admin)',
        description:
          'Assessments already started keep the version they snapshotted; new assessments use the new version.',
        parameters: [parameter('QuestionId')],
        requestBody: jsonBody('QuestionRevisionInput'),
        responses: {
          '200': jsonResponse('New version of the question', schema('Question')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Question not found'),
          '409': errorResponse('Question retired'),
          '422': errorResponse('Invalid question'),
          ...authenticatedErrors,
        },
      },
      delete: {
        tags: ['Catalog'],
        operationId: 'retireQuestion',
        summary: 'Retire a question (admin)',
        parameters: [parameter('QuestionId')],
        responses: {
          '202': response('CommandPending'),
          '204': { description: 'Question retired' },
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Question not found'),
          '409': errorResponse('Question already retired'),
          '422': errorResponse('Question cannot be retired'),
          ...authenticatedErrors,
        },
      },
    },
    ...scoredExamplesPaths,
    ...documentPaths,
    '/catalog/credentials': {
      get: {
        tags: ['Catalog'],
        operationId: 'listCredentials',
        summary: 'List credential catalog entries',
        parameters: [
          {
            in: 'query',
            name: 'role_id',
            schema: uuidInput,
            description: 'Optional filter by role',
          },
          {
            in: 'query',
            name: 'page',
            schema: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
          },
          {
            in: 'query',
            name: 'page_size',
            schema: { type: 'integer', minimum: 10, maximum: 100, default: 25 },
          },
        ],
        responses: {
          '200': jsonResponse('Paginated credential list', schema('CredentialList')),
          '400': errorResponse('Invalid query parameters'),
          '403': errorResponse('Forbidden'),
          ...authenticatedErrors,
        },
      },
      post: {
        tags: ['Catalog'],
        operationId: 'createCredential',
        summary: 'Add a credential to the catalog (admin)',
        requestBody: jsonBody('CredentialInput'),
        responses: {
          '201': jsonResponse('Credential created', schema('Credential')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '409': errorResponse('Credential already exists'),
          '422': errorResponse('Invalid credential'),
          ...authenticatedErrors,
        },
      },
    },
    '/catalog/credentials/{credential_id}': {
      get: {
        tags: ['Catalog'],
        operationId: 'getCredential',
        summary: 'A credential, active or retired (e.g. to check an evidence snippet against its description)',
        parameters: [parameter('CredentialId')],
        responses: {
          '200': jsonResponse('The credential', schema('Credential')),
          '404': errorResponse('Credential not found'),
          ...authenticatedErrors,
        },
      },
      put: {
        tags: ['Catalog'],
        operationId: 'updateCredential',
        summary: 'Replace a credential’s details (admin)',
        parameters: [parameter('CredentialId')],
        requestBody: jsonBody('CredentialInput'),
        responses: {
          '200': jsonResponse('Credential updated', schema('Credential')),
          '202': response('CommandPending'),
          '400': errorResponse('Malformed body or unknown fields'),
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Credential not found'),
          '409': errorResponse('Credential retired'),
          '422': errorResponse('Invalid credential'),
          ...authenticatedErrors,
        },
      },
      delete: {
        tags: ['Catalog'],
        operationId: 'retireCredential',
        summary: 'Retire a credential so that it is no longer recommended (admin)',
        parameters: [parameter('CredentialId')],
        responses: {
          '202': response('CommandPending'),
          '204': { description: 'Credential retired' },
          '403': errorResponse('Caller is not an admin'),
          '404': errorResponse('Credential not found'),
          '409': errorResponse('Credential already retired'),
          '422': errorResponse('Credential cannot be retired'),
          ...authenticatedErrors,
        },
      },
    },
    '/assessments/start': {
      post: {
        tags: ['Assessments'],
        operationId: 'startAssessment',
        summary: 'Start a new assessment',
        parameters: [parameter('IdempotencyKey')],
        requestBody: jsonBody('AssessmentStartRequest'),
        responses: {
          '201': jsonResponse('Assessment created', schema('AssessmentStartResponse')),
          '202': response('CommandPending'),
          '400': errorResponse('Invalid role or missing prerequisites'),
          '403': errorResponse('Caller’s role may not start assessments'),
          '404': errorResponse('Role not found'),
          '409': errorResponse('Role retired, or an assessment is already in progress for it'),
          '422': errorResponse('Role has no active questions'),
          ...authenticatedErrors,
        },
      },
    },
    '/assessments/{assessment_id}/responses': {
      post: {
        tags: ['Assessments'],
        operationId: 'submitAssessmentResponses',
        summary: 'Submit responses batch',
        parameters: [parameter('AssessmentId'), parameter('IdempotencyKey')],
        requestBody: jsonBody('AssessmentResponseBatch'),
        responses: {
          '202': jsonResponse(
            'Accepted; async processing queued when complete. When the decision is slow, a CommandPending to poll instead.',
            { oneOf: [schema('AssessmentSubmissionAck'), schema('CommandPending')] },
          ),
          '400': errorResponse('Invalid payload or assessment state'),
          '403': errorResponse('Caller does not own this assessment'),
          '404': errorResponse('Assessment not found'),
          '409': errorResponse('Assessment not in progress, or expired'),
          '422': errorResponse(
            'Invalid answers (unknown question, wrong answer type) or required questions unanswered',
          ),
          ...authenticatedErrors,
        },
      },
    },
    '/assessments/{assessment_id}': {
      get: {
        tags: ['Assessments'],
        operationId: 'getAssessmentStatus',
        summary: 'Get assessment status',
        parameters: [parameter('AssessmentId')],
        responses: {
          '200': jsonResponse('Status payload', schema('AssessmentStatus')),
          '403': errorResponse('Caller may not see this assessment'),
          '404': errorResponse('Not found'),
          ...authenticatedErrors,
        },
      },
    },
    // The result and feedback (seed paths; contract beside their routes).
    ...recommendationPaths,
    ...historyPaths,
    ...essayPaths,
    ...dashboardPaths,
    ...webhookSubscriptionPaths,
    ...webhookDeliveryPaths,
    ...projectionPaths,
    '/commands/{command_id}': {
      get: {
        tags: ['Commands'],
        operationId: 'getCommandStatus',
        summary: 'Status of a command answered 202 CommandPending (issuer, advisor, admin)',
        parameters: [parameter('CommandId')],
        responses: {
          '200': jsonResponse('Command status', schema('CommandStatus')),
          '403': errorResponse('Caller is neither the issuer, an advisor nor an admin'),
          '404': errorResponse('Command unknown'),
          ...authenticatedErrors,
        },
      },
    },
    '/healthz': {
      servers: [{ url: '/', description: 'Served at the root, outside /api/v1' }],
      get: {
        tags: ['Health'],
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        security: [],
        responses: {
          '200': jsonResponse('Alive', schema('HealthStatus')),
        },
      },
    },
    '/readyz': {
      servers: [{ url: '/', description: 'Served at the root, outside /api/v1' }],
      get: {
        tags: ['Health'],
        operationId: 'getReadiness',
        summary: 'Readiness: every dependency answers',
        security: [],
        responses: {
          '200': jsonResponse('Ready; every dependency is "ok"', schema('ReadinessReport')),
          '503': jsonResponse(
            'Not ready; the report names the dependency that is down (this body is a ReadinessReport, not an ErrorResponse)',
            schema('ReadinessReport'),
          ),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    },
    parameters: {
      AssessmentId: { name: 'assessment_id', in: 'path', required: true, schema: uuidInput },
      RecommendationId: { name: 'recommendation_id', in: 'path', required: true, schema: uuidInput },
      RoleId: { name: 'role_id', in: 'path', required: true, schema: uuidInput },
      QuestionId: { name: 'question_id', in: 'path', required: true, schema: uuidInput },
      CredentialId: { name: 'credential_id', in: 'path', required: true, schema: uuidInput },
      CommandId: { name: 'command_id', in: 'path', required: true, schema: uuidInput },
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Client-chosen key for this command. A retry with the same key returns the outcome of the first attempt and writes nothing.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
    headers: {
      RetryAfter: {
        description: 'Seconds to wait before retrying',
        required: true,
        schema: { type: 'integer', minimum: 0 },
      },
      Allow: {
        description: 'The methods the path takes, e.g. "HEAD, GET, POST"',
        required: true,
        schema: { type: 'string' },
      },
    },
    responses: {
      Unauthorized: errorResponse('Missing, expired or invalid bearer token'),
      TooManyRequests: {
        description: 'Rate limit exceeded (60 requests per minute per user by default)',
        headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
        content: { [JSON_MEDIA]: { schema: schema('ErrorResponse') } },
      },
      MethodNotAllowed: {
        description:
          'The path exists but does not take this method (error_code METHOD_NOT_ALLOWED); any path, any undeclared method',
        headers: { Allow: { $ref: '#/components/headers/Allow' } },
        content: { [JSON_MEDIA]: { schema: schema('ErrorResponse') } },
      },
      InternalError: errorResponse('Unexpected error; it has been logged'),
      ServiceUnavailable: errorResponse('A dependency (Kafka, PostgreSQL, …) is unavailable or too slow; retry later'),
      CommandPending: jsonResponse(
        'The command was accepted into the log and will be processed; poll status_url for its outcome',
        schema('CommandPending'),
      ),
    },
    schemas: {
      // ---- Seed contract ----------------------------------------------------------------
      AssessmentStartRequest: {
        type: 'object',
        required: ['role_id'],
        additionalProperties: false,
        properties: {
          role_id: uuidInput,
          metadata: openObject,
        },
      },
      AssessmentStartResponse: {
        type: 'object',
        required: ['assessment_id', 'status', 'questions'],
        properties: {
          assessment_id: { type: 'string' },
          status: { type: 'string', enum: ['in_progress', 'completed', 'awaiting_async'] },
          expires_at: dateTime,
          questions: { type: 'array', items: schema('QuestionSnapshot') },
        },
      },
      QuestionSnapshot: {
        type: 'object',
        required: ['question_id', 'type', 'prompt', 'rubric'],
        properties: {
          question_id: { type: 'string' },
          type: questionType,
          prompt: { type: 'string' },
          choices: { type: 'array', items: { type: 'string' }, nullable: true },
          rubric: openObject,
          version: { type: 'string' },
        },
      },
      AssessmentResponseBatch: {
        type: 'object',
        required: ['responses'],
        additionalProperties: false,
        properties: {
          responses: { type: 'array', minItems: 1, items: schema('AssessmentResponseItem') },
          completed: { type: 'boolean' },
        },
      },
      AssessmentResponseItem: {
        type: 'object',
        required: ['question_id', 'answer'],
        additionalProperties: false,
        properties: {
          question_id: { type: 'string' },
          answer: {
            oneOf: [{ type: 'string' }, { type: 'number' }, openObject],
          },
          submitted_at: dateTime,
        },
      },
      AssessmentSubmissionAck: {
        type: 'object',
        required: ['assessment_id', 'status', 'async_job_enqueued'],
        properties: {
          assessment_id: { type: 'string' },
          status: { type: 'string', enum: ['in_progress', 'awaiting_async', 'completed'] },
          async_job_enqueued: { type: 'boolean' },
          message: { type: 'string' },
        },
      },
      AssessmentStatus: {
        type: 'object',
        required: ['assessment_id', 'status', 'progress', 'degraded'],
        properties: {
          assessment_id: { type: 'string' },
          status: { type: 'string', enum: ['in_progress', 'awaiting_async', 'completed', 'failed'] },
          progress: {
            type: 'object',
            properties: {
              answered: { type: 'integer' },
              total: { type: 'integer' },
            },
          },
          degraded: { type: 'boolean' },
          last_updated_at: dateTime,
          scoring: schema('ScoringProgress'),
        },
      },
      // AssessmentResult, RecommendationItem, RagTrace, ProcessingMetrics, RecommendationFeedbackRequest
      // (and what the service adds to them), beside their routes.
      ...recommendationSchemas,
      CredentialList: {
        type: 'object',
        required: ['items', 'page', 'page_size', 'total'],
        properties: {
          items: { type: 'array', items: schema('Credential') },
          page: { type: 'integer' },
          page_size: { type: 'integer' },
          total: { type: 'integer' },
        },
      },
      Credential: {
        type: 'object',
        required: ['credential_id', 'title', 'description', 'skills'],
        properties: {
          credential_id: { type: 'string' },
          title: { type: 'string' },
          description: { type: 'string' },
          skills: { type: 'array', items: { type: 'string' } },
          provider: { type: 'string' },
          embedding_vector_ref: { type: 'string', description: 'Reference for embedding artifact' },
          metadata: openObject,
          active: { type: 'boolean' },
        },
      },
      ErrorResponse: {
        type: 'object',
        required: ['error_code', 'message'],
        properties: {
          error_code: { type: 'string', description: 'Stable, machine-readable code, e.g. RATE_LIMITED' },
          message: { type: 'string', description: 'Human-readable explanation' },
          details: { ...openObject, description: 'Extra context, e.g. the fields that failed validation' },
        },
      },

      // ---- Identity -----------------------------------------------------------------------
      RegisterRequest: {
        type: 'object',
        required: ['email', 'password'],
        additionalProperties: false,
        properties: { email, password: newPassword },
      },
      TokenRequest: {
        type: 'object',
        required: ['email', 'password'],
        additionalProperties: false,
        properties: { email, password },
      },
      TokenResponse: {
        type: 'object',
        required: ['access_token', 'token_type', 'expires_in'],
        properties: {
          access_token: { type: 'string' },
          token_type: { type: 'string', enum: ['bearer'] },
          expires_in: { type: 'integer', description: 'Seconds until the token expires' },
        },
      },
      CreateUserRequest: {
        type: 'object',
        required: ['email', 'password', 'role'],
        additionalProperties: false,
        properties: { email, password: newPassword, role: userRole },
      },
      UserCreatedResponse: {
        type: 'object',
        required: ['user_id'],
        properties: { user_id: uuid },
      },

      // ---- Catalog ------------------------------------------------------------------------
      SkillRequirement: {
        type: 'object',
        required: ['skill'],
        additionalProperties: false,
        properties: {
          skill: lineOfText(100),
          level: { type: 'integer', minimum: 1, maximum: 5, description: '1 (awareness) to 5 (expert)' },
          weight: { type: 'number', exclusiveMinimum: true, minimum: 0, maximum: 100 },
        },
      },
      Role: {
        type: 'object',
        required: ['role_id', 'name', 'description', 'skills_profile', 'active', 'question_count'],
        properties: {
          role_id: uuid,
          name: { type: 'string' },
          description: { type: 'string', nullable: true },
          skills_profile: { type: 'array', items: schema('SkillRequirement') },
          active: { type: 'boolean' },
          question_count: { type: 'integer' },
        },
      },
      RoleList: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: schema('Role') } },
      },
      RoleInput: {
        type: 'object',
        required: ['name', 'skills_profile'],
        additionalProperties: false,
        properties: {
          name: lineOfText(64),
          description: { type: 'string', minLength: 0, maxLength: 2000 },
          skills_profile: {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            items: schema('SkillRequirement'),
            description:
              'Each skill at most once, compared case-insensitively after trimming ("SQL" and "sql " are the same skill): a uniqueness by key that JSON Schema cannot state (422 INVALID_ROLE)',
          },
        },
      },
      Question: {
        type: 'object',
        required: [
          'question_id',
          'role_id',
          'question_type',
          'prompt',
          'choices',
          'rubric',
          'weight',
          'required',
          'version',
          'active',
        ],
        properties: {
          question_id: uuid,
          role_id: uuid,
          question_type: questionType,
          prompt: { type: 'string' },
          choices: { type: 'array', items: { type: 'string' }, nullable: true },
          rubric: openObject,
          weight: { type: 'number' },
          required: { type: 'boolean' },
          version: { type: 'string' },
          active: { type: 'boolean' },
        },
      },
      QuestionList: {
        type: 'object',
        required: ['items'],
        properties: { items: { type: 'array', items: schema('Question') } },
      },
      QuestionInput: {
        type: 'object',
        required: ['role_id', 'question_type', 'prompt', 'rubric', 'weight'],
        additionalProperties: false,
        properties: { role_id: uuidInput, ...questionFields },
        oneOf: questionTypeVariants(true),
      },
      QuestionRevisionInput: {
        type: 'object',
        description: 'A revision of a question: creates a new version. The role cannot change.',
        required: ['question_type', 'prompt', 'rubric', 'weight'],
        additionalProperties: false,
        properties: { ...questionFields },
        oneOf: questionTypeVariants(false),
      },
      ...rubricSchemas,
      CredentialInput: {
        type: 'object',
        required: ['title', 'description', 'skills'],
        additionalProperties: false,
        properties: {
          title: lineOfText(300),
          description: { type: 'string', minLength: 0, maxLength: 4000 },
          skills: {
            type: 'array',
            minItems: 1,
            maxItems: 50,
            uniqueItems: true,
            items: lineOfText(100),
            description:
              'Distinct skill names; the server also compares them case-insensitively after trimming ("SQL" and "sql" are one skill), which uniqueItems cannot state (422 INVALID_CREDENTIAL)',
          },
          provider: { ...nonBlankString, maxLength: 200 },
          metadata: openObject,
        },
      },

      // ---- History and commands -------------------------------------------------------------
      ...historySchemas,
      CommandPending: {
        type: 'object',
        required: ['command_id', 'status', 'status_url', 'message'],
        properties: {
          command_id: { type: 'string' },
          status: { type: 'string', enum: ['pending'] },
          status_url: { type: 'string', description: 'Where to poll the outcome: GET /commands/{command_id}' },
          message: { type: 'string' },
        },
      },
      CommandStatus: {
        type: 'object',
        required: ['command_id', 'status'],
        properties: {
          command_id: { type: 'string' },
          status: { type: 'string', enum: ['pending', 'accepted', 'rejected'] },
          error: {
            description: 'Why the command was rejected; null otherwise',
            anyOf: [schema('ErrorResponse'), { type: 'object', nullable: true, enum: [null] }],
          },
          aggregate_id: { type: 'string' },
          events: { type: 'integer', description: 'Number of events the command appended' },
        },
      },

      // ---- Essay scoring (contracts beside their routes) -----------------------------------
      ...essaySchemas,
      ...scoredExamplesSchemas,
      ...documentSchemas,
      ...dashboardSchemas,
      ...webhookSubscriptionSchemas,
      ...webhookDeliverySchemas,
      ...projectionSchemas,

      // ---- Health -------------------------------------------------------------------------
      HealthStatus: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', enum: ['ok'] } },
      },
      ReadinessReport: {
        type: 'object',
        required: ['status', 'dependencies'],
        properties: {
          status: { type: 'string', enum: ['ready', 'not_ready'] },
          dependencies: {
            type: 'object',
            description: '"ok" or the reason the dependency is not ready',
            required: ['kafka', 'registry', 'postgres', 'elasticsearch'],
            properties: {
              kafka: { type: 'string' },
              registry: { type: 'string' },
              postgres: { type: 'string' },
              elasticsearch: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;
