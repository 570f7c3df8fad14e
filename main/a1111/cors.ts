// A1111's `--cors-allow-origins`: browser front ends and editor plug-ins on other origins may call
// /sdapi when their origin is listed (FastAPI's CORSMiddleware: any method and header, credentials
// allowed, preflight answered). No list, no CORS headers: browsers then refuse cross-origin calls.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function parseCorsOrigins(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter((origin) => origin.length > 0);
}

export function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  return origin !== undefined && (allowed.includes(origin) || allowed.includes('*'));
}

/** Sets CORS headers for an allowed origin; answers a preflight and returns true. */
export function applyCors(allowed: readonly string[], req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (!origin || !originAllowed(allowed, origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
  res.writeHead(200, {
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    'Access-Control-Max-Age': '600',
    'Content-Length': '0',
  });
  res.end();
  return true;
}
