// The models CLI end to end: real processes against the local Hub on 127.0.0.1.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePath } from '../../native-models/test/fixtures.ts';
import { formatBytes } from '../models/disk.ts';
import { FakeHub } from '../models/test/fake-hub.ts';
import { bytes, tempDir } from '../models/test/helpers.ts';

const hub = new FakeHub();
let modelsDir: string;
let cleanup: () => Promise<void>;

before(async () => {
  await hub.start();
  hub.addRepo('acme/weights', { 'big.bin': bytes(2_000_000, 3) });
  hub.addRepo('acme/slow', { 'slow.bin': bytes(3_000_000, 4) });
  ({ path: modelsDir, cleanup } = await tempDir('yoso-cli-'));
});
after(async () => {
  await hub.stop();
  await cleanup();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(args).done;
}

function run(args: string[]) {
  let child!: ReturnType<typeof spawn>;
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/models.ts', ...args, '--models', modelsDir], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdin!.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { child, done };
}

test('pull a repo file, list it with its size, refuse remove without --yes off a terminal, remove with --yes', async () => {
  const pulled = await cli('pull', 'acme/weights', '--file', 'big.bin', '--id', 'weights');
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^installed weights \(2\.0 MB\) in /);
  assert.match(pulled.stderr, /weights {2}done {2}100\.0% {2}2\.0 MB \/ 2\.0 MB/);

  const listed = await cli('list');
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, /^ID\s+KIND\s+SIZE\s+SOURCE\s+NAME\nweights\s+base\s+2\.0 MB\s+catalog\s+weights$/m);

  const refused = await cli('remove', 'weights');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: remove asks before deleting; without a terminal add --yes to delete weights\n/);

  const removed = await cli('remove', 'weights', '--yes');
  assert.equal(removed.code, 0, removed.stderr);
  assert.match((await cli('list')).stdout, /^no models in /);
});

test('a failure is one clear line on stderr and a non-zero exit', async () => {
  const missing = await cli('pull', 'acme/weights', '--file', 'nope.bin');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /^error: acme\/weights@main\/nope\.bin: not found \(HTTP 404\)/);

  const badImport = await cli('import', fixturePath('tiny-sd15/tokenizer'));
  assert.equal(badImport.code, 1);
  assert.match(badImport.stderr, /\nerror: .*tokenizer is not an ONNX pipeline folder/);

  const usage = await cli('pull');
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^error: pull needs an ID/);
});

test('Ctrl-C pauses a pull; running the same command in a new process resumes with the missing bytes only', async () => {
  hub.faults.set('slow.bin', { slowMs: 5 });
  const part = join(modelsDir, '.downloads/slow/files/slow.bin.part');
  const first = run(['pull', 'acme/slow', '--file', 'slow.bin', '--id', 'slow']);
  while (((await stat(part).catch(() => null))?.size ?? 0) < 300_000) await new Promise((r) => setTimeout(r, 50));
  first.child.kill('SIGINT');
  const interrupted = await first.done;
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stderr, /paused slow; run the same command again to resume/);
  const onDisk = (await stat(part)).size;

  hub.faults.clear();
  const logStart = hub.storageLog.length;
  const second = await cli('pull', 'acme/slow', '--file', 'slow.bin', '--id', 'slow');
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, new RegExp(`^resuming slow: ${formatBytes(onDisk)} already on disk`));
  const resumed = hub.storageLog.slice(logStart);
  assert.deepEqual(resumed.map((r) => r.range), [`bytes=${onDisk}-`]);
  assert.equal(resumed[0]!.bytesSent, 3_000_000 - onDisk);
});
