// Import on the tiny SD 1.5 fixture (real ONNX sessions) and on broken copies of it.
import { strict as assert } from 'node:assert';
import { copyFile, link, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePath, TINY_SD15 } from '../../native-models/test/fixtures.ts';
import { ImportError, ModelLibrary } from './index.ts';
import { tempDir, walk } from './test/helpers.ts';

let work: string;
let cleanupWork: () => Promise<void>;
before(async () => ({ path: work, cleanup: cleanupWork } = await tempDir('yoso-import-')));
after(() => cleanupWork());

const PIPELINE_FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
];

/** A copy of the fixture pipeline (hard links where possible: it is read-only here). */
async function pipelineCopy(name: string, skip: string[] = []): Promise<string> {
  const dir = join(work, name);
  for (const file of PIPELINE_FILES) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    if (skip.includes(file)) continue;
    await link(join(TINY_SD15(), file), join(dir, file)).catch(() => copyFile(join(TINY_SD15(), file), join(dir, file)));
  }
  return dir;
}

async function freshLibrary() {
  const { path, cleanup } = await tempDir();
  return { lib: new ModelLibrary({ modelsDir: path }), modelsDir: path, cleanup };
}

test('the tiny fixture imports: sessions open, files copied, listed with its size', async () => {
  const { lib, modelsDir, cleanup } = await freshLibrary();
  const model = await lib.importPath(TINY_SD15(), { id: 'tiny-sd15', name: 'Tiny SD 1.5' });
  assert.deepEqual([model.id, model.kind, model.source, model.path], ['tiny-sd15', 'base', 'imported', 'tiny-sd15']);
  const files = await walk(join(modelsDir, 'tiny-sd15'));
  for (const f of PIPELINE_FILES) assert.ok(files.includes(f), `${f} copied`);
  assert.ok(!files.some((f) => f.startsWith('cases/') || f.startsWith('checkpoint/')), 'only the pipeline is copied');
  const listed = await lib.list();
  assert.equal(listed.length, 1);
  assert.ok(listed[0]!.sizeBytes > 20_000_000 && listed[0]!.sizeBytes < 40_000_000);
  assert.deepEqual(await walk(modelsDir, true), await walk(modelsDir), 'no staging left');
  await cleanup();
});

test('a folder with a file missing is refused with the file named, and nothing is copied', async () => {
  const dir = await pipelineCopy('no-vae', ['vae_decoder/model.onnx', 'tokenizer/merges.txt']);
  const { lib, modelsDir, cleanup } = await freshLibrary();
  await assert.rejects(lib.importPath(dir), (e: ImportError) => {
    assert.ok(e instanceof ImportError);
    assert.deepEqual(e.problems, ['tokenizer/merges.txt is missing', 'vae_decoder/model.onnx is missing']);
    assert.match(e.message, /2 problems: tokenizer\/merges\.txt is missing; vae_decoder\/model\.onnx is missing/);
    return true;
  });
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test('a UNet with a wrong input name is refused with the input named', async () => {
  const dir = await pipelineCopy('wrong-input', ['unet/model.onnx']);
  // Same-length rename inside the protobuf: the graph stays valid, only the name changes.
  const original = await readFile(join(TINY_SD15(), 'unet/model.onnx'));
  const from = Buffer.from('encoder_hidden_states');
  const to = Buffer.from('encoder_hidden_statez');
  const bytes = Buffer.from(original);
  let renamed = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) {
    to.copy(bytes, at);
    renamed++;
  }
  assert.ok(renamed > 0);
  await writeFile(join(dir, 'unet/model.onnx'), bytes);
  const { lib, modelsDir, cleanup } = await freshLibrary();
  await assert.rejects(lib.importPath(dir), (e: ImportError) => {
    assert.ok(e.problems.some((p) => /^unet\/model\.onnx has no input "encoder_hidden_states" \(it has: sample, timestep, encoder_hidden_statez\)/.test(p)), e.message);
    assert.ok(e.problems.some((p) => /input "encoder_hidden_statez" the SD 1.5 pipeline does not feed/.test(p)));
    return true;
  });
  assert.deepEqual(await walk(modelsDir, true), []);
  await cleanup();
});

test('a damaged ONNX file is reported as not opening, naming the file', async () => {
  const dir = await pipelineCopy('damaged', ['text_encoder/model.onnx']);
  const original = await readFile(join(TINY_SD15(), 'text_encoder/model.onnx'));
  await writeFile(join(dir, 'text_encoder/model.onnx'), original.subarray(0, original.length >> 1));
  const { lib, cleanup } = await freshLibrary();
  await assert.rejects(lib.importPath(dir), /text_encoder\/model\.onnx cannot be opened by ONNX Runtime/);
  await cleanup();
});

test('a folder that is not a pipeline, a missing path and a pickle get one clear message each', async () => {
  const { lib, cleanup } = await freshLibrary();
  await assert.rejects(lib.importPath(join(TINY_SD15(), 'checkpoint')), /is not an ONNX pipeline folder: it holds a single-file checkpoint/);
  await assert.rejects(lib.importPath(join(work, 'nope')), /does not exist/);
  const pickle = join(work, 'model.ckpt');
  await writeFile(pickle, 'x');
  await assert.rejects(lib.importPath(pickle), /pickle file; only \.safetensors files are imported/);
  await cleanup();
});

test('the kohya LoRA fixture imports as an SD 1.5 UNet LoRA; an existing id is not overwritten', async () => {
  const { lib, modelsDir, cleanup } = await freshLibrary();
  const lora = fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors');
  const model = await lib.importPath(lora);
  assert.deepEqual([model.id, model.kind, model.path], ['tiny_yoso_style_lora', 'lora', 'tiny_yoso_style_lora/tiny_yoso_style_lora.safetensors']);
  assert.ok((await readFile(join(modelsDir, model.path))).equals(await readFile(lora)));
  await assert.rejects(lib.importPath(lora), /already installed; choose another --id/);
  await cleanup();
});

test('remove asks for confirmation, lets the inference side free its sessions first, then deletes', async () => {
  const { lib, modelsDir, cleanup } = await freshLibrary();
  const lora = fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors');
  await lib.importPath(lora, { id: 'style' });
  await assert.rejects(lib.remove('style', {} as never), /needs an explicit confirmation/);
  const seen: string[] = [];
  lib.onBeforeRemove(async (m) => {
    // The files are still there while sessions are released.
    await readFile(join(modelsDir, m.path));
    seen.push(m.id);
  });
  await lib.remove('style', { confirm: true });
  assert.deepEqual(seen, ['style']);
  assert.deepEqual(await walk(modelsDir, true), []);
  assert.deepEqual(await lib.list(), []);
  await assert.rejects(lib.remove('style', { confirm: true }), /no installed model with id style/);
  await cleanup();
});

test('a pipeline pulled from a Hub repo in the optimum layout is one the import check (and so the pipeline) accepts', async () => {
  const { FakeHub } = await import('./test/fake-hub.ts');
  const { checkOnnxFolder } = await import('./onnx-layout.ts');
  const { defaultInspector } = await import('./import.ts');
  const hub = new FakeHub();
  await hub.start();
  try {
    const files: Record<string, Buffer> = {};
    for (const f of [...PIPELINE_FILES, 'unet/config.json', 'vae_decoder/config.json', 'text_encoder/config.json']) {
      files[f] = await readFile(join(TINY_SD15(), f));
    }
    files['checkpoint/tiny-sd15.safetensors'] = Buffer.from('not pulled');
    hub.addRepo('acme/tiny-sd15-onnx', files);
    const { path: modelsDir, cleanup } = await tempDir();
    const lib = new ModelLibrary({ modelsDir, hub: { endpoint: hub.endpoint, token: null } });
    const model = await lib.pull({ repo: 'acme/tiny-sd15-onnx' }).done;
    const pulled = join(modelsDir, model.id);
    assert.ok(!(await walk(pulled)).some((f) => f.startsWith('checkpoint/')));
    assert.deepEqual((await checkOnnxFolder(pulled, defaultInspector)).problems, []);
    await cleanup();
  } finally {
    await hub.stop();
  }
});
