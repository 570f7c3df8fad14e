// A1111's two error bodies. Request validation fails the way FastAPI answers it (status 422,
// `{detail: [{loc, msg, type}]}`, pydantic v1 wording, as A1111 1.x runs pydantic 1); every other
// error goes through A1111's api_middleware: `{error, detail, body, errors}` with the status of the
// HTTPException. Clients (and their users) read `detail`, so that is where our explanation goes.
import type { z } from 'zod';

export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

/** FastAPI's RequestValidationError body. */
export interface ValidationErrorBody {
  detail: ValidationIssue[];
}

/** A1111's api_middleware body for HTTPException and any other exception. */
export interface A1111ErrorBody {
  error: string;
  detail: string;
  body: string;
  errors: string;
}

/** An error that answers with A1111's `{error, detail, body, errors}` shape. */
export class A1111HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** The exception class A1111 would name: HTTPException, RuntimeError, … */
    readonly kind: string = 'HTTPException',
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'A1111HttpError';
  }

  body(): A1111ErrorBody {
    // A1111 leaves `detail` empty for non-HTTP exceptions; we fill it too, since clients show it.
    const errors = this.kind === 'HTTPException' ? `${this.status}: ${this.detail}` : this.detail;
    return { error: this.kind, detail: this.detail, body: '', errors };
  }
}

/** A 422 with FastAPI's body; `issues` already in pydantic's words. */
export class A1111ValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.name = 'A1111ValidationError';
  }

  body(): ValidationErrorBody {
    return { detail: this.issues };
  }
}

/** The message integer fields are built with, so a string or 2.5 reads as pydantic's int error. */
export const NOT_AN_INTEGER = 'value is not a valid integer';

const typeNames: Record<string, { type: string; msg: string }> = {
  int: { type: 'type_error.integer', msg: 'value is not a valid integer' },
  number: { type: 'type_error.float', msg: 'value is not a valid float' },
  string: { type: 'type_error.str', msg: 'str type expected' },
  boolean: { type: 'type_error.bool', msg: 'value could not be parsed to a boolean' },
  object: { type: 'type_error.dict', msg: 'value is not a valid dict' },
  record: { type: 'type_error.dict', msg: 'value is not a valid dict' },
  array: { type: 'type_error.list', msg: 'value is not a valid list' },
};

/**
 * Zod issues (parsed with `reportInput: true`) in pydantic v1's words. Our own messages (limits
 * with the reason, e.g. YOSO's step range) replace pydantic's fixed text where we wrote one.
 */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[], root: string = 'body'): ValidationIssue[] {
  return issues.map((issue) => {
    const loc = [root, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const custom = !issue.message.startsWith('Invalid input') && !issue.message.startsWith('Too ');
    switch (issue.code) {
      case 'invalid_type': {
        if (issue.input === undefined) return { loc, msg: 'field required', type: 'value_error.missing' };
        if (issue.message === NOT_AN_INTEGER) return { loc, msg: NOT_AN_INTEGER, type: 'type_error.integer' };
        const known = typeNames[issue.expected] ?? { type: `type_error.${issue.expected}`, msg: issue.message };
        return { loc, msg: known.msg, type: known.type };
      }
      case 'too_big': {
        const limit = Number(issue.maximum);
        const base = `ensure this value is less than or equal to ${limit}`;
        return { loc, msg: custom ? `${base}: ${issue.message}` : base, type: 'value_error.number.not_le', ctx: { limit_value: limit } };
      }
      case 'too_small': {
        const limit = Number(issue.minimum);
        const base = `ensure this value is greater than or equal to ${limit}`;
        return { loc, msg: custom ? `${base}: ${issue.message}` : base, type: 'value_error.number.not_ge', ctx: { limit_value: limit } };
      }
      default:
        return { loc, msg: issue.message, type: 'value_error' };
    }
  });
}

/** JSON that does not parse, as FastAPI 0.9x reports it. */
export function jsonDecodeIssue(error: unknown): ValidationIssue {
  const message = error instanceof Error ? error.message : String(error);
  return { loc: ['body', 0], msg: `Expecting value: ${message}`, type: 'value_error.jsondecode' };
}
