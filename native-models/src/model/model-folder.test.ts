import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { loadModelFolder, ModelFolderError } from './model-folder.ts';

const work = mkdtempSync(join(tmpdir(), 'yoso-folder-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ENTRIES = ['model_index.json', 'text_encoder', 'unet', 'vae_decoder', 'tokenizer', 'scheduler'];

/** A model folder that links to the fixture's parts, except those replaced or left out. */
function folderWith(name: string, replace: Record<string, string | null>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const entry of ENTRIES) {
    const sub = Object.keys(replace).filter((k) => k.startsWith(`${entry}/`));
    if (entry in replace || sub.length > 0) {
      if (entry in replace && replace[entry] === null) continue;
      if (sub.length === 0) {
        writeFileSync(join(dir, entry), replace[entry]!);
        continue;
      }
      mkdirSync(join(dir, entry));
      for (const file of ['model.onnx', 'config.json', 'vocab.json', 'merges.txt', 'scheduler_config.json']) {
        const key = `${entry}/${file}`;
        if (key in replace) {
          if (replace[key] !== null) writeFileSync(join(dir, key), replace[key]!);
        } else {
          try {
            symlinkSync(join(TINY_SD15(), entry, file), join(dir, key));
          } catch {
            /* the fixture has no such file here */
          }
        }
      }
      continue;
    }
    symlinkSync(join(TINY_SD15(), entry), join(dir, entry));
  }
  return dir;
}

test('reads the fixture layout', () => {
  const folder = loadModelFolder(TINY_SD15());
  assert.equal(folder.pipelineClass, 'StableDiffusionPipeline');
  assert.match(folder.unet, /unet[/\\]model\.onnx$/);
  assert.equal(folder.unetExternalData, null);
  assert.equal(folder.vaeScalingFactor, 0.18215);
  assert.equal(folder.unetDownBlocks, 4);
  assert.equal(folder.schedulerConfig.original_inference_steps, 50);
});

const failures: Array<[string, Record<string, string | null>, RegExp]> = [
  ['missing index', { 'model_index.json': null }, /model_index\.json: missing; expected the pipeline index/],
  ['broken index', { 'model_index.json': '{nope' }, /model_index\.json: is not valid JSON/],
  ['SDXL index', { 'model_index.json': '{"_class_name":"StableDiffusionXLPipeline"}' }, /expected a Stable Diffusion 1\.5 pipeline/],
  ['missing unet graph', { 'unet/model.onnx': null }, /unet[/\\]model\.onnx: missing; expected the unet ONNX graph/],
  ['empty vae graph', { 'vae_decoder/model.onnx': '' }, /vae_decoder[/\\]model\.onnx: is empty/],
  ['missing merges', { 'tokenizer/merges.txt': null }, /merges\.txt: missing; expected the CLIP BPE merges/],
  ['bad scheduler', { 'scheduler/scheduler_config.json': '{"prediction_type":"flow"}' }, /scheduler_config\.json: prediction_type "flow" is not supported/],
];
for (const [name, replace, message] of failures) {
  test(`names the file and what was expected: ${name}`, () => {
    const dir = folderWith(name.replace(/\W+/g, '-'), replace);
    assert.throws(() => loadModelFolder(dir), (e: unknown) => e instanceof Error && message.test(e.message));
  });
}

test('a path that is not a folder is refused', () => {
  assert.throws(() => loadModelFolder(join(work, 'nowhere')), ModelFolderError);
});
