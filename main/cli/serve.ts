// `npm run serve`: the studio's API, events, images and UI over HTTP for any browser.
import { fileURLToPath } from 'node:url';
import { openStudio } from '../api/studio.ts';
import { NodeProcessHost } from '../inference/node-process-host.ts';
import { StudioServer } from '../server/http-server.ts';
import { mountA1111, parseApiAuth } from '../a1111/index.ts';
import { parseServeArgs, SERVE_USAGE, UsageError } from './serve-args.ts';
import { runShutdown } from './shutdown.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let options;
try {
  options = parseServeArgs(process.argv.slice(2), process.env, repoRoot);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`serve: ${error.message}\n\n${SERVE_USAGE}`);
  process.exit(2);
}

const studio = await openStudio({ dataDir: options.dataDir, modelsDir: options.modelsDir, host: new NodeProcessHost() }).catch(
  (error: unknown) => fail(`serve: cannot open the studio: ${messageOf(error)}`),
);
const server = new StudioServer({ studio, rendererDir: options.rendererDir, access: { token: options.token } });
mountA1111(server, studio, {
  credentials: options.apiAuth === null ? null : parseApiAuth(options.apiAuth),
  corsOrigins: options.corsOrigins,
});
const url = await server.listen(options.port, options.host).catch(async (error: unknown) => {
  // The inference process is running already: stop it before leaving.
  await runShutdown([{ name: 'the studio', run: () => studio.close() }]);
  return fail(`serve: cannot listen on ${options.host}:${options.port}: ${messageOf(error)}`);
});

// One line a script (or a test) can wait for; the token is never printed.
console.log(`YOSO Studio serving ${url.href} (data ${options.dataDir}, models ${options.modelsDir})`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  const code = await runShutdown([
    { name: 'the HTTP server', run: () => server.close() },
    { name: 'the studio', run: () => studio.close() },
  ]);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
