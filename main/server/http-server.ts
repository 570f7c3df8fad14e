// The HTTP transport (Node's own http module, no framework): the contract's commands as
// POST /api/<command>, its events as SSE at /api/events, data-folder images at /files/…, the
// built renderer at /. Extra route sets (the AUTOMATIC1111-compatible API) mount in front.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatch } from '../api/dispatch.ts';
import { httpStatusOf, toApiError } from '../api/errors.ts';
import type { Studio } from '../api/studio.ts';
import { checkAccess, sameOrigin, TOKEN_COOKIE, type AccessPolicy } from './auth.ts';
import { resolveDataFile, sendFile } from './files.ts';
import { sendJson } from './http-util.ts';
import { readJsonBody } from './json-body.ts';
import { serveEvents } from './sse.ts';
import { SECURITY_HEADERS, serveRenderer } from './static-files.ts';

/** Answers a request and returns true, or returns false to let the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface StudioServerOptions {
  studio: Studio;
  /** Folder of the built renderer (index.html + assets). */
  rendererDir: string;
  access: AccessPolicy;
}

export function sendApiError(res: ServerResponse, error: unknown): void {
  const apiError = toApiError(error);
  sendJson(res, httpStatusOf[apiError.code], apiError);
}

export class StudioServer {
  readonly server: Server;
  private readonly routes: Route[] = [];
  /** Routes that check access themselves (the A1111 API under --api-auth). */
  private readonly ownAccessRoutes: Route[] = [];

  constructor(private readonly options: StudioServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        console.error('request failed:', error);
        if (!res.headersSent) sendApiError(res, error);
        else res.destroy();
      });
    });
  }

  /** Adds routes tried before the built-in ones (same access checks apply unless beforeAccessCheck). */
  mount(route: Route, options: { beforeAccessCheck?: boolean } = {}): void {
    (options.beforeAccessCheck ? this.ownAccessRoutes : this.routes).push(route);
  }

  async listen(port: number, host: string): Promise<URL> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new URL(`http://${shownHost}:${address.port}/`);
  }

  async close(): Promise<void> {
    // SSE streams never end by themselves.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

    for (const route of this.ownAccessRoutes) {
      if (await route(req, res, url)) return;
    }
    const access = checkAccess(this.options.access, req, url);
    if (!access.allowed) {
      sendJson(res, access.status, { code: 'invalid_input', message: access.message });
      return;
    }
    if (this.options.access.token !== null && url.searchParams.get('token') !== null) {
      // A browser opened /?token=…: keep the token in a cookie so images and SSE carry it.
      res.setHeader(
        'Set-Cookie',
        `${TOKEN_COOKIE}=${encodeURIComponent(this.options.access.token)}; Path=/; HttpOnly; SameSite=Strict`,
      );
    }

    for (const route of this.routes) {
      if (await route(req, res, url)) return;
    }

    const { studio } = this.options;
    if (url.pathname === '/api/events') {
      if (req.method !== 'GET') return void sendJson(res, 405, { code: 'invalid_input', message: 'use GET for /api/events' });
      serveEvents(studio.events, req, res);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return void sendJson(res, 405, { code: 'invalid_input', message: `use POST for ${url.pathname} with a JSON body` });
      }
      if (!sameOrigin(req)) {
        return void sendJson(res, 403, { code: 'invalid_input', message: 'cross-origin requests are refused' });
      }
      let input: unknown;
      try {
        input = await readJsonBody(req);
      } catch (error) {
        return void sendApiError(res, error);
      }
      const result = await dispatch(studio.handlers, url.pathname.slice('/api/'.length), input);
      if (result.ok) sendJson(res, 200, result.output);
      else sendJson(res, httpStatusOf[result.error.code], result.error);
      return;
    }
    if (url.pathname.startsWith('/files/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return void sendJson(res, 405, { code: 'invalid_input', message: 'use GET' });
      const file = await resolveDataFile(studio.dataDir, url.pathname.slice('/files/'.length));
      if (!file.ok) return void sendJson(res, file.status, { code: file.status === 404 ? 'not_found' : 'invalid_input', message: file.message });
      sendFile(res, file);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void sendJson(res, 405, { code: 'invalid_input', message: 'use GET' });
    }
    await serveRenderer(this.options.rendererDir, url.pathname, res);
  }
}
