// `npm run serve -- --data DIR [--port P] [--models DIR] [--host H --token T] [--renderer DIR]`
// parsed and checked: the server refuses to listen beyond loopback without a token.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseApiAuth } from '../a1111/auth.ts';
import { parseCorsOrigins } from '../a1111/cors.ts';
import { modelsDirFor, resolveDataFolder } from '../data-folder.ts';

export interface ServeOptions {
  dataDir: string;
  modelsDir: string;
  port: number;
  host: string;
  token: string | null;
  rendererDir: string;
  /** `--api-auth user:pass[,user:pass]`: Basic credentials for the A1111-compatible /sdapi routes. */
  apiAuth: string | null;
  /** `--cors-allow-origins a,b`: origins whose pages may call the A1111 API. */
  corsOrigins: string[];
}

export const SERVE_USAGE = `usage: npm run serve -- --data DIR [--port P] [--models DIR] [--host H --token T]
  --data DIR     data folder (history, images, settings); default YOSO_STUDIO_DATA, else the app's
  --port P       port on the host (default 7860; 0 picks a free one)
  --models DIR   models folder (default $YOSO_MODELS_DIR, else <data>/models); a symlink in it to a model folder works too
  --host H       listen on H instead of 127.0.0.1 (requires --token)
  --token T      secret every request must carry (Bearer, Basic password, or /?token=T once)
  --renderer DIR built renderer to serve at / (default renderer/dist)
  --api-auth U:P HTTP Basic credentials (user:pass[,user:pass]) for the AUTOMATIC1111-compatible
                 API at /sdapi/v1; with it, --host needs no --token (the studio UI and /api then
                 answer only on loopback)
  --cors-allow-origins O[,O]  origins whose web pages may call /sdapi/v1 (A1111's flag)`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv, repoRoot: string): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        port: { type: 'string' },
        models: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        renderer: { type: 'string' },
        'api-auth': { type: 'string' },
        'cors-allow-origins': { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Same precedence as the app: --data, then YOSO_STUDIO_DATA, then the app's own folder.
  const dataDir = values.data !== undefined ? resolve(values.data) : resolveDataFolder({ argv: [], env }).path;
  const port = values.port === undefined ? 7860 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port} is not a port number (0-65535)`);
  const host = values.host ?? '127.0.0.1';
  const token = values.token ?? env.YOSO_STUDIO_TOKEN ?? null;
  const apiAuth = values['api-auth'] ?? null;
  if (apiAuth !== null) {
    try {
      parseApiAuth(apiAuth);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (!LOOPBACK.has(host) && !token && !apiAuth) {
    throw new UsageError(`--host ${host} makes the server reachable from other machines: give --token T too (a long random secret), or --api-auth user:pass for the A1111 API only`);
  }
  if (token !== null && token.length < 16) throw new UsageError('--token must be at least 16 characters');
  return {
    dataDir,
    modelsDir: values.models !== undefined ? resolve(values.models) : modelsDirFor(dataDir, env),
    port,
    host,
    token,
    rendererDir: resolve(values.renderer ?? resolve(repoRoot, 'renderer', 'dist')),
    apiAuth,
    corsOrigins: parseCorsOrigins(values['cors-allow-origins'] ?? ''),
  };
}
