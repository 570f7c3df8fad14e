// `npm run serve` as a user starts it: refuses the network without a token, prints the URL it
// serves, answers, and on SIGTERM stops together with its inference process.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const serveArgs = (...args: string[]) => ['--import', 'tsx', 'main/cli/serve.ts', ...args];
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.YOSO_STUDIO_TOKEN;

test('--host without --token refuses to start and says why', () => {
  const root = mkdtempSync(join(tmpdir(), 'yoso-serve-cli-'));
  try {
    const result = spawnSync(process.execPath, serveArgs('--data', root, '--host', '0.0.0.0'), { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--host 0\.0\.0\.0 makes the server reachable from other machines: give --token/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('serve prints its URL, answers, and SIGTERM stops it and its inference process', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yoso-serve-cli-'));
  const child = spawn(process.execPath, serveArgs('--data', join(root, 'data'), '--port', '0'), { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    const info = await (await fetch(`${url}api/app.info`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json();
    assert.equal(info.dataDir, join(root, 'data'));
    assert.equal(info.modelsDir, join(root, 'data', 'models'));
    assert.equal(info.inference.state, 'ready');
    const workerPid = findWorker(child.pid!);
    assert.ok(workerPid !== null, 'serve runs an inference child process');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.throws(() => process.kill(workerPid, 0), /ESRCH/, 'the inference process is gone too');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test('a port in use: serve says so, stops its inference process and exits 1 (no hang, no unhandled rejection)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'yoso-serve-cli-'));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  try {
    const result = spawnSync(process.execPath, serveArgs('--data', join(root, 'data'), '--port', String(port)), {
      cwd: repoRoot,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`serve: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    assert.doesNotMatch(result.stderr, /Unhandled|at async/);
  } finally {
    taken.close();
    rmSync(root, { recursive: true, force: true });
  }
});

/** Pid of the serve process's child (the inference worker). */
function findWorker(parentPid: number): number | null {
  const result = spawnSync('ps', ['-o', 'pid=', '--ppid', String(parentPid)], { encoding: 'utf8' });
  const pid = Number.parseInt(result.stdout.trim().split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) ? pid : null;
}
