// The small HTTP pieces every route set needs (the studio API, /files, the renderer and the
// A1111 API): JSON answers, bodies read with a size limit, file streams and secret comparison.
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * The whole request body, refused past `limit` bytes (as soon as Content-Length says so, else
 * when the count passes it) with the error `tooLarge` makes: each API answers in its own shape.
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: (limit: number) => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume(); // drain the rest, so the answer can still be read by the client
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Streams a file as the answer; a read error (file deleted since stat) ends the response, never throws. */
export function streamFile(res: ServerResponse, path: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(200, headers);
  pipeline(createReadStream(path), res, () => {});
}

/** Compares a presented secret (token, password) in time that does not depend on where it differs. */
export function sameSecret(presented: string, expected: string): boolean {
  const left = Buffer.from(presented);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}
