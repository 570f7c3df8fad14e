// `npm run serve`: the studio's API, events, images and UI over HTTP for any browser.
import { fileURLToPath } from 'node:url';
import { openStudio } from '../api/studio.ts';
import { NodeProcessHost } from '../inference/node-process-host.ts';
import { StudioServer } from '../server/http-server.ts';
import { parseServeArgs, SERVE_USAGE, UsageError } from './serve-args.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let options;
try {
  options = parseServeArgs(process.argv.slice(2), process.env, repoRoot);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`serve: ${error.message}\n\n${SERVE_USAGE}`);
  process.exit(2);
}

const studio = await openStudio({ dataDir: options.dataDir, modelsDir: options.modelsDir, host: new NodeProcessHost() });
const server = new StudioServer({ studio, rendererDir: options.rendererDir, access: { token: options.token } });
const url = await server.listen(options.port, options.host);

// One line a script (or a test) can wait for; the token is never printed.
console.log(`YOSO Studio serving ${url.href} (data ${options.dataDir}, models ${options.modelsDir})`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await server.close();
  await studio.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
