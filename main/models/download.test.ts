// The downloader against a local Hub on 127.0.0.1 (main/models/test/fake-hub.ts): each way a
// download can go must end as a user expects, resumes must fetch only the missing bytes, and the
// models folder must never hold a partial file.
import { strict as assert } from 'node:assert';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ModelLibrary, PullError, type PullProgress } from './index.ts';
import { FakeHub, sha256 } from './test/fake-hub.ts';
import { bytes, tempDir, walk } from './test/helpers.ts';

const hub = new FakeHub();
const BIG = bytes(3 * 1024 * 1024, 7); // 3 MiB LFS file
const SMALL = Buffer.from(JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
let modelsDir: string;
let cleanup: () => Promise<void>;

before(async () => {
  await hub.start();
  hub.addRepo('acme/tiny-onnx', {
    'model_index.json': SMALL,
    'scheduler/scheduler_config.json': Buffer.from('{"_class_name":"PNDMScheduler"}'),
    'tokenizer/vocab.json': Buffer.from('{}'),
    'tokenizer/merges.txt': Buffer.from('#version: 0.2'),
    'unet/model.onnx': BIG,
    'unet/config.json': Buffer.from('{"sample_size":64}'),
    'text_encoder/model.onnx': bytes(200_000, 2),
    'vae_decoder/model.onnx': bytes(150_000, 3),
    'vae_encoder/model.onnx': bytes(150_000, 4),
    'safety_checker/model.onnx': bytes(150_000, 5),
    'README.md': Buffer.from('# tiny'),
  });
  hub.addRepo('acme/lora', { 'weights/big.bin': BIG });
  hub.addRepo('acme/gated', { 'file.bin': bytes(4096, 9) }, { gatedToken: 'hf_secret' });
});
after(() => hub.stop());

beforeEach(async () => {
  ({ path: modelsDir, cleanup } = await tempDir());
  hub.faults.clear();
  hub.storageLog.length = 0;
  hub.hubLog.length = 0;
});

function library(extra: Partial<ConstructorParameters<typeof ModelLibrary>[0]> = {}) {
  return new ModelLibrary({
    modelsDir,
    hub: { endpoint: hub.endpoint, token: null },
    retry: { attempts: 3, baseDelayMs: 5 },
    stallTimeoutMs: 5000,
    ...extra,
  });
}

const pullBig = (lib: ModelLibrary) => lib.pull({ repo: 'acme/lora', files: ['weights/big.bin'], id: 'big', kind: 'base' });

async function assertNoPartialInModels() {
  const files = await walk(modelsDir);
  assert.deepEqual(files.filter((f) => /\.part|\.json\.json|verified/.test(f)), []);
}

test('a repo pull takes only the pipeline files, follows the storage redirect and verifies every file', async () => {
  const lib = library();
  const events: PullProgress[] = [];
  lib.onProgress((p) => events.push(p));
  const model = await lib.pull({ repo: 'acme/tiny-onnx' }).done;
  assert.equal(model.id, 'tiny-onnx');
  assert.deepEqual(await walk(join(modelsDir, 'tiny-onnx')), [
    'model_index.json',
    'scheduler/scheduler_config.json',
    'text_encoder/model.onnx',
    'tokenizer/merges.txt',
    'tokenizer/vocab.json',
    'unet/config.json',
    'unet/model.onnx',
    'vae_decoder/model.onnx',
    'yoso-model.json',
  ]);
  assert.ok((await readFile(join(modelsDir, 'tiny-onnx/unet/model.onnx'))).equals(BIG));
  const manifest = await lib.manifest('tiny-onnx');
  assert.equal(manifest?.commit, hub.repos.get('acme/tiny-onnx')!.commit);
  assert.equal(manifest?.files.find((f) => f.path === 'unet/model.onnx')?.sha256, sha256(BIG));
  // LFS files came from the storage host, once each, without the Range header.
  assert.equal(hub.bytesSentFor('unet/model.onnx'), BIG.length);
  const last = events.at(-1)!;
  assert.equal(last.state, 'done');
  assert.equal(last.receivedBytes, last.totalBytes);
  assert.deepEqual(await walk(modelsDir, true), await walk(modelsDir), 'staging folder is gone');
  assert.deepEqual((await lib.list()).map((m) => [m.id, m.kind]), [['tiny-onnx', 'base']]);
  await cleanup();
});

test('a connection cut mid-file is resumed with Range and only the missing bytes are fetched', async () => {
  hub.faults.set('weights/big.bin', { cutAfter: { bytes: 1_000_000, times: 2 } });
  const model = await pullBig(library()).done;
  assert.equal(model.sizeBytes > BIG.length, true);
  const requests = hub.storageLog.filter((r) => r.path === 'weights/big.bin');
  assert.deepEqual(
    requests.map((r) => [r.range, r.status]),
    [
      [null, 200],
      ['bytes=1000000-', 206],
      ['bytes=2000000-', 206],
    ],
  );
  assert.equal(hub.bytesSentFor('weights/big.bin'), BIG.length, 'no byte was fetched twice');
  assert.ok((await readFile(join(modelsDir, 'big/weights/big.bin'))).equals(BIG));
  await cleanup();
});

test('pause, app restart, resume: the new process continues from the part on disk', async () => {
  hub.faults.set('weights/big.bin', { slowMs: 2 });
  const first = library();
  const pull = pullBig(first);
  await new Promise<void>((resolve) => {
    const off = first.onProgress((p) => {
      if (p.receivedBytes > 500_000) {
        off();
        pull.pause();
        resolve();
      }
    });
  });
  assert.equal(pull.progress().state, 'paused');
  await pull.idle(); // the aborted request has written its last bytes
  await assertNoPartialInModels();
  const part = join(modelsDir, '.downloads/big/files/weights/big.bin.part');
  const onDisk = (await stat(part)).size;
  assert.ok(onDisk > 0 && onDisk < BIG.length);

  // "Restart": a fresh library on the same folder finds the paused pull.
  hub.faults.clear();
  const logBefore = hub.storageLog.length;
  const second = library();
  const pending = await second.downloads();
  assert.deepEqual(pending.map((p) => [p.id, p.state, p.receivedBytes]), [['big', 'paused', onDisk]]);
  const resumed = await second.resumePending('big');
  await resumed.done;
  const after = hub.storageLog.slice(logBefore);
  assert.deepEqual(after.map((r) => r.range), [`bytes=${onDisk}-`]);
  assert.equal(after[0]!.bytesSent, BIG.length - onDisk, 'only the missing bytes were transferred');
  assert.equal(resumed.progress().resumedBytes, onDisk);
  assert.ok((await readFile(join(modelsDir, 'big/weights/big.bin'))).equals(BIG));
  await cleanup();
});

test('a body that does not match the sha256 fails, and the bad bytes are deleted', async () => {
  hub.faults.set('weights/big.bin', { corrupt: true });
  await assert.rejects(pullBig(library()).done, (e: PullError) => {
    assert.equal(e.code, 'checksum');
    assert.match(e.message, /sha256 .* does not match the expected/);
    return true;
  });
  assert.deepEqual(await walk(modelsDir), []);
  assert.deepEqual((await walk(modelsDir, true)).filter((f) => f.endsWith('.part')), []);
  await cleanup();
});

test('a catalog sha256 wins over the Hub: a wrong one is caught', async () => {
  const { writeFile } = await import('node:fs/promises');
  const catalogPath = join(modelsDir, '..', `catalog-${process.pid}.json`);
  await writeFile(
    catalogPath,
    JSON.stringify({
      version: 1,
      models: [
        { id: 'pinned', name: 'Pinned', kind: 'base', description: '', repo: 'acme/lora', license: 'mit', files: [{ path: 'weights/big.bin', sha256: '0'.repeat(64) }] },
      ],
    }),
  );
  await assert.rejects(library({ catalogPath }).pull({ catalogId: 'pinned' }).done, /does not match the expected 0000/);
  await cleanup();
});

test('a missing file is a 404 that names it, and nothing is left behind', async () => {
  const lib = library();
  await assert.rejects(lib.pull({ repo: 'acme/lora', files: ['nope.bin'] }).done, (e: PullError) => {
    assert.equal(e.code, 'not_found');
    assert.match(e.message, /acme\/lora@main\/nope\.bin: not found/);
    return true;
  });
  await assert.rejects(lib.pull({ repo: 'acme/missing', files: ['x.bin'] }).done, /repository not found/);
  // A repo of PyTorch weights is not something the app can run: say how to export it.
  await assert.rejects(
    lib.pull({ repo: 'acme/lora' }).done,
    /acme\/lora@main is not an ONNX pipeline in the optimum layout \(no model_index\.json, .*unet\/model\.onnx.*\)\. Export one with: optimum-cli export onnx --model acme\/lora --task text-to-image <dir>/,
  );
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test("a user's own model folder with the pull's id is refused before any byte is fetched, and kept", async () => {
  const mine = join(modelsDir, 'big');
  await mkdir(mine);
  await writeFile(join(mine, 'model_index.json'), 'my own model');
  await assert.rejects(pullBig(library()).done, (e: PullError) => {
    assert.equal(e.code, 'invalid');
    assert.match(e.message, /already exists and was not made by a download; move or rename it/);
    return true;
  });
  assert.equal(await readFile(join(mine, 'model_index.json'), 'utf8'), 'my own model');
  assert.equal(hub.storageLog.length, 0);
  await cleanup();
});

test('a gated repo needs HF_TOKEN; the token goes to the Hub only, never to the storage host', async () => {
  await assert.rejects(library().pull({ repo: 'acme/gated', files: ['file.bin'] }).done, (e: PullError) => {
    assert.equal(e.code, 'unauthorized');
    assert.match(e.message, /gated or private .* set HF_TOKEN/);
    return true;
  });
  hub.hubLog.length = 0;
  const lib = library({ hub: { endpoint: hub.endpoint, token: 'hf_secret' } });
  await lib.pull({ repo: 'acme/gated', files: ['file.bin'] }).done;
  assert.ok(hub.hubLog.every((r) => r.authorization === 'Bearer hf_secret'));
  assert.ok(hub.storageLog.every((r) => r.authorization === null));
  await cleanup();
});

test('server errors are retried with backoff; a server that ignores Range restarts the file cleanly', async () => {
  hub.faults.set('weights/big.bin', { error500: 2, cutAfter: { bytes: 700_000, times: 1 } });
  await pullBig(library()).done;
  const statuses = hub.storageLog.map((r) => r.status);
  assert.deepEqual(statuses, [500, 500, 200, 206]);
  await cleanup();

  ({ path: modelsDir, cleanup } = await tempDir());
  hub.storageLog.length = 0;
  hub.faults.set('weights/big.bin', { ignoreRange: true, cutAfter: { bytes: 700_000, times: 1 } });
  await pullBig(library()).done;
  assert.ok((await readFile(join(modelsDir, 'big/weights/big.bin'))).equals(BIG));
  await cleanup();
});

test('giving up (a connection that keeps dropping with no retries left) keeps the part for a later resume, outside the models folder', async () => {
  hub.faults.set('weights/big.bin', { cutAfter: { bytes: 400_000, times: 10 } });
  await assert.rejects(pullBig(library({ retry: { attempts: 0, baseDelayMs: 1 } })).done, /gave up after 0 retries/);
  await assertNoPartialInModels();
  assert.equal((await stat(join(modelsDir, '.downloads/big/files/weights/big.bin.part'))).size, 400_000);
  hub.faults.clear();
  await library().resumePending('big').then((p) => p.done);
  assert.equal(hub.storageLog.at(-1)!.range, 'bytes=400000-');
  await cleanup();
});

test('not enough disk space stops the pull before any byte is fetched', async () => {
  const lib = library({ freeBytes: async () => 1024 * 1024 });
  await assert.rejects(pullBig(lib).done, (e: PullError) => {
    assert.equal(e.code, 'disk_full');
    assert.match(e.message, /needs 3\.1 MB .* 1\.0 MB is free/);
    return true;
  });
  assert.equal(hub.storageLog.length, 0);
  await cleanup();
});

test('cancel stops the transfer and deletes the partial files', async () => {
  hub.faults.set('weights/big.bin', { slowMs: 2 });
  const lib = library();
  const pull = pullBig(lib);
  await new Promise<void>((resolve) => {
    const off = lib.onProgress((p) => p.receivedBytes > 200_000 && (off(), resolve()));
  });
  pull.cancel();
  await assert.rejects(pull.done, (e: PullError) => e.code === 'cancelled');
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test('a file that changed on the Hub (new ETag) is not resumed onto old bytes', async () => {
  hub.faults.set('weights/big.bin', { cutAfter: { bytes: 500_000, times: 10 } });
  await assert.rejects(pullBig(library({ retry: { attempts: 0, baseDelayMs: 1 } })).done);
  const repo = hub.repos.get('acme/lora')!;
  const changed = bytes(BIG.length, 99);
  repo.files.set('weights/big.bin', { content: changed, lfs: true });
  hub.faults.clear();
  hub.storageLog.length = 0;
  await library().resumePending('big').then((p) => p.done);
  assert.deepEqual(hub.storageLog.map((r) => r.range), [null]);
  assert.ok((await readFile(join(modelsDir, 'big/weights/big.bin'))).equals(changed));
  repo.files.set('weights/big.bin', { content: BIG, lfs: true });
  await cleanup();
});

test('a few files download at once, and a pause then resume in the same process continues where each file stopped', async () => {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 5; i++) files[`part-${i}.bin`] = bytes(400_000, 20 + i);
  hub.addRepo('acme/many', files);
  for (const name of Object.keys(files)) hub.faults.set(name, { slowMs: 1 });
  hub.maxInFlight = 0;
  const lib = library({ concurrentFiles: 3 });
  const pull = lib.pull({ repo: 'acme/many', files: Object.keys(files), id: 'many' });
  await new Promise<void>((resolve) => {
    const off = lib.onProgress((p) => p.receivedBytes > 600_000 && (off(), resolve()));
  });
  pull.pause();
  await pull.idle();
  pull.resume();
  await pull.done;
  assert.equal(hub.maxInFlight, 3);
  for (const [name, content] of Object.entries(files)) {
    // Bytes in flight when the pause hit are fetched again; nothing on disk is.
    const ranges = hub.storageLog.filter((r) => r.path === name).map((r) => r.range);
    assert.equal(ranges[0], null);
    assert.ok(ranges.slice(1).every((r) => r !== null && /^bytes=[1-9]\d*-$/.test(r)), `${name}: ${ranges.join(', ')}`);
    assert.ok(hub.bytesSentFor(name) < content.length + 256 * 1024);
    assert.ok((await readFile(join(modelsDir, 'many', name))).equals(content));
  }
  await cleanup();
});

test("the catalog's YOSO LoRA installs from the Hub as a LoRA; a file that is no SD 1.5 LoRA is refused", async () => {
  const { fixturePath } = await import('../../native-models/test/fixtures.ts');
  const lora = await readFile(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'));
  hub.addRepo('Luo-Yihong/yoso_sd1.5_lora', { 'yoso_lora.safetensors': lora });
  const model = await library().pull({ catalogId: 'yoso-sd15-lora' }).done;
  assert.deepEqual(
    [model.id, model.kind, model.path, model.recommended],
    ['yoso-sd15-lora', 'lora', 'yoso-sd15-lora/yoso_lora.safetensors', { steps: 1, guidance: 1 }],
  );
  await cleanup();

  ({ path: modelsDir, cleanup } = await tempDir());
  hub.addRepo('Luo-Yihong/yoso_sd1.5_lora', { 'yoso_lora.safetensors': bytes(5000, 1) });
  await assert.rejects(library().pull({ catalogId: 'yoso-sd15-lora' }).done, /is not a valid \.safetensors file/);
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test('a paused download left by an earlier run can be cancelled, which deletes its partial files', async () => {
  hub.faults.set('weights/big.bin', { cutAfter: { bytes: 300_000, times: 1 } });
  await assert.rejects(pullBig(library({ retry: { attempts: 0, baseDelayMs: 1 } })).done);
  const lib = library();
  assert.equal((await lib.downloads()).length, 1);
  await lib.cancelDownload('big');
  assert.deepEqual(await lib.downloads(), []);
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test('a download another live process holds is refused; a lock left by a dead process is taken over', async () => {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const staging = join(modelsDir, '.downloads/big');
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, 'pull.lock'), String(process.ppid));
  await assert.rejects(pullBig(library()).done, /big is being downloaded by another process \(pid \d+\)/);
  assert.equal(hub.storageLog.length, 0);
  await writeFile(join(staging, 'pull.lock'), '2147483646');
  await pullBig(library()).done;
  assert.deepEqual(await walk(modelsDir, true), ['big/weights/big.bin', 'big/yoso-model.json']);
  await cleanup();
});

test('a connection that hangs mid-file is dropped after the idle timeout and resumed', async () => {
  hub.faults.set('weights/big.bin', { stallAfter: { bytes: 600_000, times: 1 } });
  const started = Date.now();
  await pullBig(library({ stallTimeoutMs: 300 })).done;
  assert.ok(Date.now() - started >= 300);
  assert.deepEqual(hub.storageLog.map((r) => r.range), [null, 'bytes=600000-']);
  assert.ok((await readFile(join(modelsDir, 'big/weights/big.bin'))).equals(BIG));
  await cleanup();
});

test('when one file fails verification the others stop at once and keep their parts for a resume', async () => {
  const files: Record<string, Buffer> = { 'bad.bin': bytes(100_000, 41), 'slow-1.bin': bytes(2_000_000, 42), 'slow-2.bin': bytes(2_000_000, 43) };
  hub.addRepo('acme/mixed', files);
  hub.faults.set('bad.bin', { corrupt: true });
  hub.faults.set('slow-1.bin', { slowMs: 5 });
  hub.faults.set('slow-2.bin', { slowMs: 5 });
  await assert.rejects(library().pull({ repo: 'acme/mixed', files: Object.keys(files), id: 'mixed' }).done, /bad\.bin: sha256 .* does not match/);
  assert.ok(hub.bytesSentFor('slow-1.bin') < 1_000_000, 'the slow files were not downloaded to the end');
  assert.deepEqual(await walk(modelsDir), []);
  const parts = (await walk(modelsDir, true)).filter((f) => f.endsWith('.part'));
  assert.deepEqual(parts, ['.downloads/mixed/files/slow-1.bin.part', '.downloads/mixed/files/slow-2.bin.part']);
  await cleanup();
});
