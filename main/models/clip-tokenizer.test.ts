// The CLIP tokenizer that single-file checkpoints lack: downloaded once from the (local, fake) Hub
// into <models>/tokenizers/clip-vit-large-patch14 by the first checkpoint import, reused after,
// and on a 404 or with no network a clear error that leaves no partial folder behind.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePath } from '../../native-models/test/fixtures.ts';
import { loadModelFolder } from '../../native-models/src/model/model-folder.ts';
import { CLIP_TOKENIZER_FILES, CLIP_TOKENIZER_REPO, CLIP_TOKENIZER_REVISION, sharedTokenizerDir } from './clip-tokenizer.ts';
import { ImportError, ModelLibrary } from './index.ts';
import { FakeHub } from './test/fake-hub.ts';
import { tempDir, walk } from './test/helpers.ts';

const CHECKPOINT = () => fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors');
const CONFIG = () => fixturePath('tiny-sd15');
const hub = new FakeHub();
const tokenizerFiles: Record<string, Buffer> = {};

before(async () => {
  for (const f of CLIP_TOKENIZER_FILES) tokenizerFiles[f] = await readFile(fixturePath(`tiny-sd15/tokenizer/${f}`));
  await hub.start();
  hub.addRepo(CLIP_TOKENIZER_REPO, tokenizerFiles);
});
after(() => hub.stop());

const libraryAt = (modelsDir: string, endpoint = hub.endpoint) =>
  new ModelLibrary({ modelsDir, hub: { endpoint, token: null }, retry: { attempts: 1, baseDelayMs: 10 } });

test('the first checkpoint import downloads the tokenizer at the pinned revision; the second uses the cached copy', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const lib = libraryAt(path);
  const notes: string[] = [];
  const requestsBefore = hub.hubLog.length;
  const model = await lib.importPath(CHECKPOINT(), { id: 'ckpt-a', config: CONFIG(), onNote: (m) => notes.push(m) });
  assert.equal(model.kind, 'base');
  assert.match(notes.join('\n'), /downloading the CLIP tokenizer/);
  const fetched = hub.hubLog.slice(requestsBefore).map((r) => r.url);
  assert.ok(fetched.length >= CLIP_TOKENIZER_FILES.length);
  assert.ok(fetched.every((u) => u.startsWith(`/${CLIP_TOKENIZER_REPO}/resolve/${CLIP_TOKENIZER_REVISION}/`)), fetched.join(', '));

  const cached = sharedTokenizerDir(path);
  for (const f of CLIP_TOKENIZER_FILES) assert.deepEqual(await readFile(join(cached, f)), tokenizerFiles[f], f);
  assert.deepEqual(await readFile(join(path, 'ckpt-a', 'tokenizer', 'vocab.json')), tokenizerFiles['vocab.json']);
  assert.equal(loadModelFolder(join(path, 'ckpt-a')).unetDownBlocks, 4);
  assert.deepEqual((await walk(path, true)).filter((f) => f.startsWith('.downloads/')), [], 'no staging left');

  const afterFirst = hub.hubLog.length;
  const again = [] as string[];
  await lib.importPath(CHECKPOINT(), { id: 'ckpt-b', config: CONFIG(), onNote: (m) => again.push(m) });
  assert.equal(hub.hubLog.length, afterFirst, 'the second import asks the Hub nothing');
  assert.deepEqual(again, []);
  assert.deepEqual((await lib.list()).map((m) => m.id).sort(), ['ckpt-a', 'ckpt-b']);
});

test('a Hub that lacks a file (404) fails with the fix and leaves no partial tokenizer folder', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  // vocab.json and merges.txt arrive, special_tokens_map.json is missing: nothing may stay.
  const partial = new FakeHub();
  await partial.start();
  t.after(() => partial.stop());
  const { 'special_tokens_map.json': _missing, ...rest } = tokenizerFiles;
  partial.addRepo(CLIP_TOKENIZER_REPO, rest);
  const lib = libraryAt(path, partial.endpoint);
  await assert.rejects(lib.importPath(CHECKPOINT(), { id: 'ckpt', config: CONFIG() }), (e: unknown) => {
    assert.ok(e instanceof ImportError);
    assert.match(e.message, /^tiny-sd15\.safetensors carries no tokenizer \(single-file checkpoints never do\) and could not download the CLIP tokenizer/);
    assert.match(e.message, /special_tokens_map\.json: not found \(HTTP 404\)/);
    assert.match(e.message, /pass --tokenizer DIR with vocab\.json and merges\.txt/);
    assert.ok(e.message.endsWith(`copy those files into ${sharedTokenizerDir(path)}`), e.message);
    return true;
  });
  assert.ok(partial.storageLog.some((r) => r.path === 'vocab.json' && r.status === 200), 'the test did reach a partial download');
  assert.deepEqual(await walk(path, true), [], 'no tokenizer folder, no staging, no model');
});

test('offline: the error names the endpoint and the two fixes; an explicit --tokenizer never downloads', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
  const lib = libraryAt(path, deadEndpoint);
  await assert.rejects(
    lib.pullTokenizer(),
    (e: Error) => e.message.includes(`from ${deadEndpoint}: connect ECONNREFUSED`) && /--tokenizer DIR.*copy those files into/.test(e.message),
  );
  await assert.rejects(
    lib.importPath(CHECKPOINT(), { id: 'ckpt', config: CONFIG(), tokenizer: join(path, 'nowhere') }),
    /nowhere is not a CLIP tokenizer folder/,
  );
  // A taken id is refused before any download is tried.
  await lib.importPath(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'), { id: 'taken' });
  await assert.rejects(lib.importPath(CHECKPOINT(), { id: 'taken', config: CONFIG() }), /^ImportError: a model with id taken is already installed/);
  assert.deepEqual((await walk(path, true)).filter((f) => !f.startsWith('taken/')), []);
});

test('npm run models -- pull-tokenizer downloads once, then says it is there', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const cli = () =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/models.ts', 'pull-tokenizer', '--models', path], {
        env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const first = await cli();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `downloaded the CLIP tokenizer into ${sharedTokenizerDir(path)}\n`);
  const second = await cli();
  assert.equal(second.stdout, `the CLIP tokenizer is already in ${sharedTokenizerDir(path)}\n`);
  assert.deepEqual(await walk(path, true), CLIP_TOKENIZER_FILES.map((f) => `tokenizers/clip-vit-large-patch14/${f}`).sort());
});
