// The built renderer (renderer/dist) at `/`, under a strict Content-Security-Policy: scripts,
// styles, images and connections only from this server. Unknown paths without a file extension
// get index.html (the renderer routes on the client).
import type { ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { streamFile } from './http-util.ts';
import { fileInside } from './path-inside.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Svelte writes style attributes through templates; no inline <script> is ever allowed.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Headers every response carries (API, files and pages). */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const MISSING_BUILD = `<!doctype html><meta charset="utf-8"><title>YOSO Studio</title>
<p>The renderer is not built. Run <code>npm run build:renderer</code>, then reload. The API is at <code>/api/</code>.</p>`;

export async function serveRenderer(rendererDir: string, pathname: string, res: ServerResponse): Promise<void> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname).replace(/^\/+/, '');
  } catch {
    relative = '';
  }
  const parts = relative.split('/').filter((p) => p.length > 0);
  const wantsFile = extname(relative) !== '';
  const candidates = parts.some((p) => p === '..' || p.includes('\\') || p.includes('\0'))
    ? []
    : wantsFile
      ? [parts]
      : [[...parts, 'index.html'], ['index.html']];
  for (const candidate of candidates) {
    const file = await fileInside(rendererDir, candidate);
    if (!file.ok) continue;
    const ext = extname(file.path).toLowerCase();
    streamFile(res, file.path, {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': file.size,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      // Vite puts a content hash in asset names; index.html must be revalidated.
      'Cache-Control': ext === '.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    return;
  }
  if (wantsFile) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
    return;
  }
  res
    .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CONTENT_SECURITY_POLICY })
    .end(MISSING_BUILD);
}
