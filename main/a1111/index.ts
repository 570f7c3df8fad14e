// The AUTOMATIC1111-compatible API's entry point for `npm run serve` (and the app's server):
//
//   mountA1111(server, studio, { credentials: apiAuth ? parseApiAuth(apiAuth) : null });
//
// With --api-auth the /sdapi routes check A1111's Basic credentials themselves (before the
// server's token check, as A1111 clients know nothing of our token); without it they sit behind
// the server's own access policy like every other route.
import type { Studio } from '../api/studio.ts';
import type { StudioServer } from '../server/http-server.ts';
import { createA1111Api, type A1111Api, type A1111Options } from './api.ts';
import { a1111DepsFor } from './studio-deps.ts';

export { parseApiAuth } from './auth.ts';
export { parseCorsOrigins } from './cors.ts';
export { createA1111Api, A1111_PREFIX, type A1111Api, type A1111Deps, type A1111Options } from './api.ts';

export function mountA1111(server: StudioServer, studio: Studio, options: A1111Options): A1111Api {
  const api = createA1111Api(a1111DepsFor(studio), options);
  server.mount((req, res, url) => api.handle(req, res, url), { beforeAccessCheck: options.credentials !== null });
  return api;
}
