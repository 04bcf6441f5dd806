/**
 * The one error hierarchy for everything outside the pure domain (the domain has its own
 * DomainError with a `kind`). The HTTP layer maps both to `{error_code, message}`.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, details?: unknown, code = 'BAD_REQUEST') {
    super(code, message, 400, details);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', code = 'UNAUTHORIZED') {
    super(code, message, 401);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this', code = 'FORBIDDEN') {
    super(code, message, 403);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(code, message, 404);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT') {
    super(code, message, 409);
  }
}
export class UnprocessableError extends AppError {
  constructor(message: string, details?: unknown, code = 'UNPROCESSABLE') {
    super(code, message, 422, details);
  }
}
/** 429 with `Retry-After`: the per-caller budget (RATE_LIMITED), or a sign-in lock (ACCOUNT_LOCKED). */
export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests; retry in ${retryAfterSeconds}s`,
    code = 'RATE_LIMITED',
  ) {
    super(code, message, 429);
  }
}
/** A dependency (Kafka, PostgreSQL, …) is down or too slow; the caller may retry (after `Retry-After`). */
export class DependencyUnavailableError extends AppError {
  readonly retryAfterSeconds = 5;
  constructor(dependency: string, message: string, details?: unknown, code = 'DEPENDENCY_UNAVAILABLE') {
    super(code, `${dependency}: ${message}`, 503, details);
  }
}
