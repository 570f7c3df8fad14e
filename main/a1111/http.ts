// A1111's shapes over the shared HTTP helpers: its body limits, its 413/422 and its error bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZodError } from 'zod';
import { readBody, sendJson } from '../server/http-util.ts';
import { A1111HttpError, A1111ValidationError, jsonDecodeIssue, toValidationIssues } from './errors.ts';

/** Body limits: generation requests are small; png-info carries a base64 PNG. */
export const BODY_LIMITS = { json: 1024 * 1024, pngInfo: 64 * 1024 * 1024 } as const;

function tooLarge(limit: number): A1111HttpError {
  return new A1111HttpError(413, `request body is larger than ${Math.round(limit / 1024 / 1024)} MiB`);
}

/** Parses a JSON body; an empty body is `{}` (FastAPI gives the defaults then, or "field required"). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = (await readBody(req, limit, tooLarge)).toString('utf8');
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new A1111ValidationError([jsonDecodeIssue(error)]);
  }
}

/** Answers any thrown value in A1111's shapes; unknown errors are a 500 naming their class. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof A1111ValidationError) return sendJson(res, 422, error.body());
  if (error instanceof A1111HttpError) return sendJson(res, error.status, error.body(), error.headers);
  // The studio's own request schema, checked after the A1111 one: still the client's input.
  if (error instanceof ZodError) return sendJson(res, 422, new A1111ValidationError(toValidationIssues(error.issues)).body());
  const kind = error instanceof Error ? error.name : 'Exception';
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, new A1111HttpError(500, message, kind).body());
}
