// Importing single-file SD 1.5 checkpoints: built into an ONNX model folder the pipeline loads,
// refused with the graph builder's message when they are not SD 1.5, LoRA files still LoRAs.
import { strict as assert } from 'node:assert';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from '../../native-models/test/fixtures.ts';
import { writeSafetensors } from '../../native-models/src/checkpoint/testing/write-safetensors.ts';
import { loadModelFolder } from '../../native-models/src/model/model-folder.ts';
import { ImportError, ModelLibrary } from './index.ts';
import { tempDir } from './test/helpers.ts';

test('imports the fixture single-file checkpoint as a base model the pipeline can load', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const lib = new ModelLibrary({ modelsDir: path });
  const model = await lib.importPath(fixturePath('tiny-sd15/checkpoint/tiny-sd15-fp16.safetensors'), {
    id: 'tiny-ckpt',
    tokenizer: fixturePath('tiny-sd15/tokenizer'),
    config: fixturePath('tiny-sd15'),
  });
  assert.equal(model.kind, 'base');
  const folder = loadModelFolder(join(path, 'tiny-ckpt'));
  assert.equal(folder.unetDownBlocks, 4);
  assert.ok(folder.unetExternalData, 'fp16 weights are converted into unet/model.onnx_data');
});

// A checkpoint without any tokenizer (download, 404, offline) is covered in clip-tokenizer.test.ts.
test('refuses a non-SD 1.5 checkpoint, keeping nothing', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const lib = new ModelLibrary({ modelsDir: path });
  const sdxl = join(path, '..', `sdxl-${process.pid}.safetensors`);
  writeSafetensors(sdxl, { 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight': { shape: [1] } });
  t.after(() => rm(sdxl, { force: true }));
  await assert.rejects(
    lib.importPath(sdxl, { tokenizer: fixturePath('tiny-sd15/tokenizer') }),
    (e: unknown) => e instanceof ImportError && /is an SDXL checkpoint \(found conditioner\.embedders/.test(e.message),
  );
  assert.deepEqual(await lib.list(), []);
});

test('a LoRA .safetensors is still imported as a LoRA', async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  const model = await new ModelLibrary({ modelsDir: path }).importPath(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'));
  assert.equal(model.kind, 'lora');
});
