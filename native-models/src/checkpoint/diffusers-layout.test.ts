// Diffusers-layout checkpoints (unet/, vae/, text_encoder/ .safetensors) in float32, float16 and
// bfloat16: the same seeded weights build into graphs whose outputs agree within each type's rounding.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { ort } from '../onnx/ort.ts';
import { buildSd15FromCheckpoint } from './build-sd15.ts';
import { loadCheckpoint } from './load-weights.ts';
import { writeRandomDiffusersCheckpoint } from './write-random-checkpoint.ts';
import { deriveSd15Config } from '../graph/sd15-config.ts';

const work = mkdtempSync(join(tmpdir(), 'yoso-diffusers-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function unetOutput(modelDir: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(join(modelDir, 'unet', 'model.onnx'));
  try {
    const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
    const out = await session.run({
      sample: new ort.Tensor('float32', wave(256, 1.1), [1, 4, 8, 8]),
      timestep: new ort.Tensor('int64', BigInt64Array.of(499n), [1]),
      encoder_hidden_states: new ort.Tensor('float32', wave(77 * 32, 0.3), [1, 77, 32]),
    });
    return out.out_sample!.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('float32, float16 and bfloat16 diffusers folders build and agree within rounding', async () => {
  const fixture = loadCheckpoint(fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors'));
  const text = JSON.parse(readFileSync(fixturePath('tiny-sd15/text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
  const cfg = deriveSd15Config(fixture.weights, { textEncoder: text });
  const outputs: Record<string, Float32Array> = {};
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const dir = join(work, dtype);
    writeRandomDiffusersCheckpoint(dir, 5, dtype, cfg);
    const built = await buildSd15FromCheckpoint({ checkpoint: dir, cacheDir: join(work, 'cache'), tokenizerDir: fixturePath('tiny-sd15/tokenizer'), configDir: fixturePath('tiny-sd15') });
    assert.equal(built.cached, false);
    const referenced = Object.values(built.stats!).reduce((a, s) => a + s.referencedBytes, 0);
    assert.equal(referenced > 0, dtype === 'F32', `${dtype}: referenced ${referenced} bytes in place`);
    outputs[dtype] = await unetOutput(built.dir);
  }
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  const scale = outputs.F32!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0.1, `UNet output should not vanish (max |x| ${scale})`);
  const f16 = maxDiff(outputs.F32!, outputs.F16!) / scale;
  const bf16 = maxDiff(outputs.F32!, outputs.BF16!) / scale;
  assert.ok(f16 > 0 && f16 < 1e-2, `float16 relative difference ${f16}`);
  assert.ok(bf16 > f16 && bf16 < 8e-2, `bfloat16 relative difference ${bf16} (float16: ${f16})`);
});
