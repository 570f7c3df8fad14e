// Reads a JSON request body with a size cap (the largest command input is a 64 MiB base64 PNG).
import type { IncomingMessage } from 'node:http';
import { ApiFailure } from '../api/errors.ts';
import { readBody } from './http-util.ts';

export const MAX_BODY_BYTES = 96 * 1024 * 1024;

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    throw new ApiFailure('invalid_input', 'send the command input as JSON (Content-Type: application/json)');
  }
  const body = await readBody(req, limit, () => new ApiFailure('invalid_input', `request body is larger than ${limit} bytes`));
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiFailure('invalid_input', `request body is not valid JSON: ${(error as Error).message}`);
  }
}
