// The models CLI end to end: real processes against the local Hub on 127.0.0.1.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fixturePath } from '../../native-models/test/fixtures.ts';
import { FakeHub } from '../models/test/fake-hub.ts';
import { bytes, tempDir } from '../models/test/helpers.ts';

const hub = new FakeHub();
let modelsDir: string;
let cleanup: () => Promise<void>;

before(async () => {
  await hub.start();
  hub.addRepo('acme/weights', { 'big.bin': bytes(2_000_000, 3) });
  ({ path: modelsDir, cleanup } = await tempDir('yoso-cli-'));
});
after(async () => {
  await hub.stop();
  await cleanup();
});

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/models.ts', ...args, '--models', modelsDir], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
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
