// Errors cross every transport as the contract's ApiError. Services throw their own error types;
// this is the one place that maps them to a code the UI acts on (and the HTTP status).
import type { ZodError } from 'zod';
import type { ApiError } from '../contract/api.ts';

export type ApiErrorCode = ApiError['code'];

/** Thrown by handlers when the code is known at the throw site. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: ApiError['issues'],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export const httpStatusOf: Record<ApiErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export function fromZodError(error: ZodError, what: string): ApiFailure {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return new ApiFailure('invalid_input', `invalid ${what}: ${summary}`, issues);
}

/** Maps any thrown value to the contract's error shape, by error name so services stay decoupled. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiFailure) {
    return { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) };
  }
  if (error instanceof Error) {
    if (error.name === 'PullError') return { code: pullErrorCodes[(error as Error & { code: string }).code] ?? 'unavailable', message: error.message };
    const code = codeByName[error.name] ?? codeByErrnoCode(error) ?? 'internal';
    return { code, message: error.message };
  }
  return { code: 'internal', message: String(error) };
}

// Error classes of the services (queue, history, models) by their `name`.
const codeByName: Record<string, ApiErrorCode> = {
  ZodError: 'invalid_input',
  RangeError: 'invalid_input',
  JobNotFoundError: 'not_found',
  NotFoundError: 'not_found',
  JobConflictError: 'conflict',
  ConflictError: 'conflict',
  ImportError: 'invalid_input',
  InvalidQueryError: 'invalid_input',
  NoParametersError: 'invalid_input',
  PngFormatError: 'invalid_input',
  InferenceCrashedError: 'unavailable',
};

function codeByErrnoCode(error: Error): ApiErrorCode | null {
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT') return 'not_found';
  if (errno === 'ENOSPC') return 'unavailable';
  return null;
}

// The model library's PullError carries its own code (models/types.ts).
const pullErrorCodes: Record<string, ApiErrorCode> = {
  not_found: 'not_found',
  invalid: 'invalid_input',
  cancelled: 'conflict',
};
