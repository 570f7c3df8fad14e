// A real `npm run serve` for the specs: a temp data folder, a models folder of symlinks to the
// tiny-sd15 fixture (two base models under two names, and its YOSO-format LoRA), port 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BASE_A = 'tiny-dream';
export const BASE_B = 'tiny-real';
export const LORA = 'tiny-yoso';

export function fixturesRoot(): string {
  return resolve(process.env.YOSO_FIXTURES ?? join(REPO_ROOT, '..', 'shared', 'fixtures'));
}

export interface RunningServe {
  url: string;
  root: string;
  dataDir: string;
  modelsDir: string;
  log: () => string;
  stop(): Promise<void>;
}

/** Loopback without a token, whatever the developer's shell exports. */
function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.YOSO_STUDIO_TOKEN;
  return copy;
}

export function makeModelsFolder(modelsDir: string): void {
  const tiny = join(fixturesRoot(), 'tiny-sd15');
  mkdirSync(modelsDir, { recursive: true });
  symlinkSync(tiny, join(modelsDir, BASE_A), 'dir');
  symlinkSync(tiny, join(modelsDir, BASE_B), 'dir');
  symlinkSync(join(tiny, 'lora', 'tiny_yoso_style_lora.safetensors'), join(modelsDir, `${LORA}.safetensors`));
}

export async function startServe(options: { withModels: boolean }): Promise<RunningServe> {
  const root = mkdtempSync(join(tmpdir(), 'yoso-e2e-'));
  const dataDir = join(root, 'data');
  const modelsDir = join(root, 'models');
  if (options.withModels) makeModelsFolder(modelsDir);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'main/cli/serve.ts', '--data', dataDir, '--models', modelsDir, '--port', '0'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: withoutToken(process.env) },
  );
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    root,
    dataDir,
    modelsDir,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
