/**
 * Domain errors. Every rejection a decider can produce has a stable, SCREAMING_SNAKE `code`
 * and a `kind` that the API maps to an HTTP status:
 *
 * | kind         | status |
 * |--------------|--------|
 * | `validation` | 422    |
 * | `not_found`  | 404    |
 * | `conflict`   | 409    |
 * | `forbidden`  | 403    |
 *
 * The catalogue below is the single list of codes; `domainError(code, …)` picks the class from
 * the code so that a code can never be raised with the wrong kind.
 */
export type DomainErrorKind = 'validation' | 'not_found' | 'conflict' | 'forbidden';

export const domainErrorCodes = {
  // Shared
  INVALID_COMMAND: 'validation',
  ADMIN_ROLE_REQUIRED: 'forbidden',

  // Identity
  INVALID_EMAIL: 'validation',
  INVALID_USER_ROLE: 'validation',
  USER_ID_MISMATCH: 'validation',
  EMAIL_ALREADY_REGISTERED: 'conflict',
  FORBIDDEN_ROLE_ASSIGNMENT: 'forbidden',
  USER_NOT_FOUND: 'not_found',
  USER_ALREADY_DISABLED: 'conflict',
  INVALID_WEBHOOK_URL: 'validation',
  INVALID_WEBHOOK_EVENT_TYPES: 'validation',
  INVALID_WEBHOOK_SUBSCRIPTION: 'validation',
  WEBHOOK_SUBSCRIPTION_ALREADY_EXISTS: 'conflict',
  WEBHOOK_SUBSCRIPTION_NOT_FOUND: 'not_found',
  WEBHOOK_SUBSCRIPTION_ALREADY_ENABLED: 'conflict',
  WEBHOOK_SUBSCRIPTION_ALREADY_DISABLED: 'conflict',
  WEBHOOK_SECRET_ALREADY_USED: 'conflict',

  // Catalog
  INVALID_RUBRIC: 'validation',
  INVALID_QUESTION: 'validation',
  INVALID_ROLE: 'validation',
  INVALID_CREDENTIAL: 'validation',
  NOTHING_TO_REVISE: 'validation',
  CATALOG_ID_IN_USE: 'conflict',
  ROLE_ALREADY_EXISTS: 'conflict',
  ROLE_NOT_FOUND: 'not_found',
  ROLE_RETIRED: 'conflict',
  QUESTION_ALREADY_EXISTS: 'conflict',
  QUESTION_NOT_FOUND: 'not_found',
  QUESTION_RETIRED: 'conflict',
  CREDENTIAL_ALREADY_EXISTS: 'conflict',
  CREDENTIAL_NOT_FOUND: 'not_found',
  CREDENTIAL_RETIRED: 'conflict',
  INVALID_DOCUMENT: 'validation',
  DOCUMENT_ALREADY_EXISTS: 'conflict',
  DOCUMENT_NOT_FOUND: 'not_found',
  DOCUMENT_RETIRED: 'conflict',

  // Assessment
  ASSESSMENT_ALREADY_STARTED: 'conflict',
  ASSESSMENT_HAS_NO_QUESTIONS: 'validation',
  INVALID_QUESTION_SNAPSHOT: 'validation',
  INVALID_EXPIRY: 'validation',
  NOT_ASSESSMENT_OWNER: 'forbidden',
  ASSESSMENT_NOT_FOUND: 'not_found',
  ASSESSMENT_NOT_IN_PROGRESS: 'conflict',
  ASSESSMENT_EXPIRED: 'conflict',
  EMPTY_RESPONSE_BATCH: 'validation',
  DUPLICATE_RESPONSE: 'validation',
  UNKNOWN_QUESTION: 'validation',
  INVALID_ANSWER: 'validation',
  REQUIRED_QUESTIONS_UNANSWERED: 'validation',
  ASSESSMENT_NOT_SUBMITTED: 'conflict',
  NOT_AN_ESSAY_QUESTION: 'validation',
  ESSAY_NOT_ANSWERED: 'conflict',
  STALE_ESSAY_REVISION: 'conflict',
  ESSAY_NOT_SCORED_YET: 'conflict',
  INVALID_ESSAY_SCORE: 'validation',
  ESSAY_SCORE_OVERRIDE_FORBIDDEN: 'forbidden',
  SYSTEM_ACTOR_REQUIRED: 'forbidden',
  INVALID_SCORED_EXAMPLES: 'validation',
  INVALID_EVIDENCE: 'validation',
  INVALID_RECOMMENDATIONS: 'validation',
  UNKNOWN_TRACE_ID: 'validation',
  ESSAY_SCORING_PENDING: 'conflict',
  EVIDENCE_NOT_RECORDED: 'conflict',
  ASSESSMENT_ALREADY_COMPLETED: 'conflict',
  RECOMMENDATIONS_NOT_READY: 'conflict',
  RECOMMENDATION_NOT_FOUND: 'not_found',
  RECOMMENDATION_ITEM_NOT_FOUND: 'not_found',
  INVALID_FEEDBACK: 'validation',
} as const satisfies Record<string, DomainErrorKind>;

export type DomainErrorCode = keyof typeof domainErrorCodes;

export type DomainErrorDetails = Record<string, unknown>;

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Machine-readable context (e.g. the unanswered question ids); safe to return to the caller. */
    readonly details?: DomainErrorDetails,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly kind = 'validation' as const;
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found' as const;
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict' as const;
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden' as const;
}

const classByKind = {
  validation: ValidationError,
  not_found: NotFoundError,
  conflict: ConflictError,
  forbidden: ForbiddenError,
} as const;

/** Builds the error for `code`, of the class its kind requires. Throw the result. */
export function domainError(code: DomainErrorCode, message: string, details?: DomainErrorDetails): DomainError {
  const ErrorClass = classByKind[domainErrorCodes[code]];
  return new ErrorClass(code, message, details);
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
