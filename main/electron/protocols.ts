// Two custom protocols instead of file://: yoso-app:// serves the built renderer (so the page has
// a real origin and a CSP header), yoso-file:// serves images from the data folder and nothing
// else (the same checks as serve's /files/: no "..", no symlink escape, images only).
import { net, protocol } from 'electron';
import { pathToFileURL } from 'node:url';
import { APP_PROTOCOL, FILE_PROTOCOL } from '../contract/bridge.ts';
import { resolveDataFile } from '../server/files.ts';
import { fileInside } from '../server/path-inside.ts';
import { CONTENT_SECURITY_POLICY } from '../server/static-files.ts';

/** Must run before app is ready. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: FILE_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** The page's CSP: serve's, plus images from the file protocol (shown, and fetched by "Copy image"). */
export const APP_CSP = CONTENT_SECURITY_POLICY.replace("img-src 'self'", `img-src 'self' ${FILE_PROTOCOL}:`).replace(
  "connect-src 'self'",
  `connect-src 'self' ${FILE_PROTOCOL}:`,
);

export function handleProtocols(rendererDir: string, dataDir: string): void {
  protocol.handle(APP_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    const relative = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    const file = await fileInside(rendererDir, relative.split('/'));
    if (!file.ok) return new Response(file.reason === 'outside' ? 'outside the app' : 'not found', { status: file.reason === 'outside' ? 403 : 404 });
    const response = await net.fetch(pathToFileURL(file.path).href).catch(() => null);
    if (!response?.ok) return new Response('not found', { status: 404 });
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', APP_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: 200, headers });
  });

  protocol.handle(FILE_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'data') return new Response('unknown folder', { status: 404 });
    const lookup = await resolveDataFile(dataDir, url.pathname.replace(/^\/+/, ''));
    if (!lookup.ok) return new Response(lookup.message, { status: lookup.status });
    const response = await net.fetch(pathToFileURL(lookup.path).href);
    return new Response(response.body, { status: 200, headers: { 'Content-Type': lookup.type } });
  });
}
