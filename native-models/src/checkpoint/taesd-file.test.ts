// TAESD's published files (diffusers' AutoencoderTiny and taesd.py's own layout) become the preview
// decoder graph, computing exactly what the graph from the same weights in memory computes; files
// that are not SD 1.5's TAESD decoder are refused with what is wrong and where to get the right one.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTaesdDecoder, randomTaesdWeights } from '../graph/taesd-decoder.ts';
import { writeOnnxModel } from '../graph/write-onnx.ts';
import { ort } from '../onnx/ort.ts';
import { isTaesdFile, readTaesdDecoderWeights, writeTaesdDecoderFolder } from './taesd-file.ts';
import { writeRandomTaesdFile } from './testing/write-random-taesd.ts';
import { writeSafetensors } from './testing/write-safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-taesd-'));
const latent = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => Math.sin(i * 0.7) * 3);
let reference: Float32Array;

async function decode(model: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = (await session.run({ latent_sample: new ort.Tensor('float32', latent, [1, 4, 4, 3]) })).sample!;
    assert.deepEqual(out.dims, [1, 3, 32, 24]);
    return out.data as Float32Array;
  } finally {
    await session.release();
  }
}

before(async () => {
  mkdirSync(join(dir, 'reference'));
  writeOnnxModel(buildTaesdDecoder(randomTaesdWeights(7)), join(dir, 'reference'), 'model.onnx');
  reference = await decode(join(dir, 'reference', 'model.onnx'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const layout of ['diffusers', 'original'] as const) {
  test(`a ${layout}-layout TAESD file builds the decoder of the same weights`, async () => {
    const file = join(dir, `${layout}.safetensors`);
    writeRandomTaesdFile(file, 7, layout);
    assert.ok(isTaesdFile(file));
    const { path } = writeTaesdDecoderFolder(join(dir, `built-${layout}`), file);
    assert.deepEqual(await decode(path), reference);
  });
}

test('float16 files are read (converted to float32 in the graph)', async () => {
  const file = join(dir, 'half.safetensors');
  writeRandomTaesdFile(file, 7, 'diffusers', 'F16');
  const { path } = writeTaesdDecoderFolder(join(dir, 'built-half'), file);
  const out = await decode(path);
  let worst = 0;
  for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i]! - reference[i]!));
  assert.ok(worst > 0 && worst < 0.05, `float16 weights change the output by ${worst}`);
});

test('refuses files that are not SD 1.5\'s TAESD decoder, naming the problem and the fix', () => {
  const refuse = (name: string, tensors: Parameters<typeof writeSafetensors>[1], pattern: RegExp) => {
    const file = join(dir, name);
    writeSafetensors(file, tensors);
    assert.throws(() => readTaesdDecoderWeights(file), (e: Error) => pattern.test(e.message) && /madebyollin\/taesd/.test(e.message), name);
  };
  refuse('taesdxl_decoder.safetensors', { '1.weight': { shape: [64, 4, 3, 3] } }, /SDXL/);
  refuse('taef1.safetensors', { 'decoder.layers.0.weight': { shape: [64, 16, 3, 3] } }, /16-channel latents/);
  refuse('taesd_encoder.safetensors', { '0.weight': { shape: [64, 3, 3, 3] }, '0.bias': { shape: [64] } }, /TAESD's encoder only/);
  refuse('partial.safetensors', { 'decoder.layers.0.weight': { shape: [64, 4, 3, 3] }, 'decoder.layers.0.bias': { shape: [32] } }, /decoder\.layers\.0\.bias is \[32\], expected \[64\]; decoder\.layers\.2\.conv\.0\.weight is missing/);
  const lora = join(dir, 'lora.safetensors');
  writeSafetensors(lora, { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': { shape: [4, 320, 1, 1] } });
  assert.equal(isTaesdFile(lora), false);
});
