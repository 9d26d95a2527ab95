/**
 * The named errors Conveyor raises. Each carries a stable snake_case code; the HTTP error
 * middleware and the worker runner map them at their boundary.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the input is malformed. */
export class BadRequest extends AppError {
  constructor(message = 'bad params', code = 'bad_params', details?: Record<string, unknown>) {
    super(code, message, 400, details);
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'unauthorized', code = 'unauthorized') {
    super(code, message, 401);
  }
}

export class Forbidden extends AppError {
  constructor(message = 'not allowed', code = 'forbidden') {
    super(code, message, 403);
  }
}

export class NotFound extends AppError {
  constructor(message = 'not found', code = 'not_found') {
    super(code, message, 404);
  }
}

export class Conflict extends AppError {
  constructor(message: string, code = 'conflict') {
    super(code, message, 409);
  }
}

/** 422: well-formed input that a business rule refuses. Never worth retrying. */
export class RuleViolation extends AppError {
  constructor(message: string, code: string, details?: Record<string, unknown>) {
    super(code, message, 422, details);
  }
}

export class RateLimited extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'too many requests', 429, { retry_after: retryAfterSeconds });
  }
}

/** 503: a dependency (Redis, MySQL) is down; the caller should retry later. */
export class Unavailable extends AppError {
  constructor(message = 'a dependency is unavailable', readonly retryAfterSeconds = 1) {
    super('unavailable', message, 503);
  }
}

/** A failure no retry can fix (a consumer answered 4xx, a referenced row is gone). Jobs fail at once. */
export class PermanentError extends Error {
  constructor(
    message: string,
    readonly code = 'permanent_failure',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}
