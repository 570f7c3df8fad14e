// The pipeline on a GPU provider for real: onnxruntime's WebGPU provider, on Mesa's software Vulkan
// driver in CI (a GPU's driver where there is one), against diffusers' reference images. This runs
// the forms the app picks for GPU providers: guidance as one batch-2 UNet call, the VAE's own
// convolutions, the UNet's exported attention (WebGPU's fused kernel is wrong, see unet-graph.ts) and
// float16 arithmetic by default.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { caseRequest, psnr, referenceCases } from '../../test/reference-cases.ts';
import { webgpuUnavailable } from '../../test/webgpu.ts';
import { TINY_LORA } from '../lora/test/helpers.ts';
import { LoraUnets } from '../lora/lora-pipeline.ts';
import { loadModelFolder } from '../model/model-folder.ts';
import { StableDiffusionPipeline } from './pipeline.ts';

const [GUIDED] = referenceCases((c) => c.name === 'cat_g1.5_s2_seed318');
const [WITH_LORA] = referenceCases((c) => c.name === 'cat_g1.5_s2_seed318_lora1.0');

async function skipped(t: { skip(reason: string): void }): Promise<boolean> {
  const reason = await webgpuUnavailable();
  if (reason) {
    console.log(`[webgpu pipeline] skipped: ${reason}`);
    t.skip(reason);
  }
  return reason !== undefined;
}

for (const { precision, minPsnr } of [
  // Measured: 50.1 dB (max 4 of 255 per channel). The fixture magnifies rounding: its UNet's lowest
  // level is 1x1 (group norms of 2 values), and at t = 999 the predicted image is the noise
  // prediction's error times 14.
  { precision: 'auto', minPsnr: 45 },
  // Measured: 71.1 dB (max 1 of 255).
  { precision: 'float32', minPsnr: 60 },
] as const) {
  test(`on WebGPU (${precision} precision) the pipeline gives diffusers' image`, async (t) => {
    if (await skipped(t)) return;
    const pipe = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'webgpu', precision });
    try {
      const parts = pipe.components;
      const expected = precision === 'auto' ? 'float16' : precision;
      assert.deepEqual(parts.unetForm, { attention: 'exported', layers: 'exported', sharedPrefix: false, precision: expected });
      assert.equal(parts.vaePrecision, expected);
      assert.equal(parts.cfgBatching, 'batched');
      assert.equal(parts.vaeConvolutions, 'direct');
      const result = await pipe.generate(caseRequest(GUIDED!));
      assert.deepEqual(result.provider, { requested: 'webgpu', used: 'webgpu' });
      const db = psnr(result.images[0]!.rgb, GUIDED!.png('image.png').rgb);
      assert.ok(db >= minPsnr, `PSNR ${db.toFixed(1)} dB against diffusers' image`);
    } finally {
      await pipe.release();
    }
  });
}

test('on WebGPU a LoRA-patched UNet (opened in the pipeline\'s float16 form) gives diffusers\' LoRA image', async (t) => {
  if (await skipped(t)) return;
  const pipe = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'webgpu' });
  const loras = new LoraUnets({ provider: 'webgpu' });
  try {
    const change = await loras.apply(pipe, loadModelFolder(TINY_SD15()), { path: TINY_LORA(), scale: 1 });
    assert.equal(change.report?.applied.unet, 277);
    const result = await pipe.generate(caseRequest(WITH_LORA!));
    // Measured: 49.6 dB; without the LoRA the same request gives 18.8 dB.
    const db = psnr(result.images[0]!.rgb, WITH_LORA!.png('image.png').rgb);
    assert.ok(db >= 45, `PSNR ${db.toFixed(1)} dB against diffusers' LoRA image`);
  } finally {
    await loras.release();
    await pipe.release();
  }
});
