// Reading bodies with a size limit and answering JSON, for the /sdapi routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZodError } from 'zod';
import { A1111HttpError, A1111ValidationError, jsonDecodeIssue, toValidationIssues } from './errors.ts';

/** Body limits: generation requests are small; png-info carries a base64 PNG. */
export const BODY_LIMITS = { json: 1024 * 1024, pngInfo: 64 * 1024 * 1024 } as const;

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): A1111HttpError {
  return new A1111HttpError(413, `request body is larger than ${Math.round(limit / 1024 / 1024)} MiB`);
}

/** Parses a JSON body; an empty body is `{}` (FastAPI gives the defaults then, or "field required"). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = (await readBody(req, limit)).toString('utf8');
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new A1111ValidationError([jsonDecodeIssue(error)]);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
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
