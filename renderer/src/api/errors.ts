// Errors from any transport reach the UI as ApiClientError: the contract's ApiError shape plus a JS Error.
import { ApiError } from '../../../main/contract/api.ts';

export class ApiClientError extends Error {
  readonly code: ApiError['code'];
  readonly issues: ApiError['issues'];

  constructor(error: ApiError) {
    super(error.message);
    this.name = 'ApiClientError';
    this.code = error.code;
    this.issues = error.issues;
  }

  /** Accepts whatever a transport received as an error body; keeps the server's words when it can. */
  static from(body: unknown, fallback: string): ApiClientError {
    const parsed = ApiError.safeParse(body);
    if (parsed.success) return new ApiClientError(parsed.data);
    const nested = ApiError.safeParse((body as { error?: unknown } | null)?.error);
    if (nested.success) return new ApiClientError(nested.data);
    return new ApiClientError({ code: 'internal', message: fallback });
  }
}

/** A message fit for a toast, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiClientError && error.issues?.length) {
    return `${error.message}: ${error.issues.map((i) => `${i.path || 'input'} ${i.message}`).join('; ')}`;
  }
  return error instanceof Error ? error.message : String(error);
}
