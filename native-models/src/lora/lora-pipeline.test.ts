import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { caseRequest, psnr, referenceCases } from '../../test/reference-cases.ts';
import { loadModelFolder } from '../model/model-folder.ts';
import { ModelSession } from '../onnx/session.ts';
import { StableDiffusionPipeline } from '../pipeline/pipeline.ts';
import { describeLoraReport, LoraUnets } from './lora-pipeline.ts';
import { TINY_LORA } from './test/helpers.ts';

// The inference issue's bar for a reproduced case.
const MIN_PSNR_DB = 50;

let pipe: StableDiffusionPipeline;
let loras: LoraUnets;
const folder = () => loadModelFolder(TINY_SD15());
before(async () => {
  pipe = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'cpu' });
  loras = new LoraUnets({ provider: 'cpu' });
});
after(async () => {
  await pipe.release();
  await loras.release();
});

const loraCases = referenceCases((c) => Boolean(c.json.parameters.lora_file));

async function generateCase(c: (typeof loraCases)[number]) {
  return pipe.generate(caseRequest(c));
}

test('the fixture has the two LoRA cases', () => {
  assert.deepEqual(loraCases.map((c) => c.name), ['cat_g1.5_s2_seed318_lora1.0', 'cat_g1.5_s4_seed1234_lora0.5']);
});

for (const c of loraCases) {
  test(`reproduces diffusers load_lora_weights + fuse_lora: ${c.name}`, async () => {
    const scale = (c.json as unknown as { lora: { scale: number } }).lora.scale;
    const change = await loras.apply(pipe, folder(), { path: TINY_LORA(), scale });
    assert.equal(change.report?.applied.unet, 277);
    assert.match(describeLoraReport('yoso.safetensors', change.report!), /277 UNet layers fused$/);
    const result = await generateCase(c);
    const db = psnr(result.images[0]!.rgb, c.png('image.png').rgb);
    assert.ok(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(1)} dB`);
  });
}

test("a patched UNet runs in the pipeline's own form: on CPU the guided pair shares its text-free prefix", async () => {
  assert.equal(pipe.components.unetForm?.sharedPrefix, true);
  await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 1 });
  const labels: string[] = [];
  const run = ModelSession.prototype.run;
  ModelSession.prototype.run = function (this: ModelSession, feeds) {
    labels.push(this.label);
    return run.call(this, feeds);
  };
  try {
    await pipe.generate({ prompt: 'a cat', seed: 1, steps: 1, guidance: 1.5, width: 64, height: 64, png: false });
  } finally {
    ModelSession.prototype.run = run;
  }
  const unetRuns = labels.filter((l) => l.startsWith('unet/'));
  assert.deepEqual(unetRuns, ['unet/model.onnx + LoRA (prefix)', 'unet/model.onnx + LoRA (rest)', 'unet/model.onnx + LoRA (rest)']);
});

test('switching LoRA off and back on: no LoRA image, then the kept LoRA UNet again', async () => {
  const c = loraCases[0]!;
  const withLora = await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 1 });
  assert.equal(withLora.reused, true, 'kept from the case test above');
  const plain = await loras.apply(pipe, folder());
  assert.equal(plain.reused, true, "the pipeline's own UNet was kept");
  const noLora = await generateCase(c);
  assert.ok(psnr(noLora.images[0]!.rgb, c.png('image.png').rgb) < 30, 'without LoRA the image differs');
  const zero = await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 0 });
  assert.equal(zero.reused, true);
  assert.deepEqual((await generateCase(c)).images[0]!.rgb, noLora.images[0]!.rgb, 'scale 0 = no LoRA, bit for bit');
  const again = await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 1 });
  assert.equal(again.reused, true);
  assert.ok(psnr((await generateCase(c)).images[0]!.rgb, c.png('image.png').rgb) >= MIN_PSNR_DB);
});

test('re-applying the same base or LoRA before each generation keeps the prompt embedding cache', async () => {
  const own = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'cpu' });
  const mine = new LoraUnets({ provider: 'cpu' });
  try {
    const encoder = own.components.textEncoder;
    let encodes = 0;
    own.replaceTextEncoder({
      get provider() {
        return encoder.provider;
      },
      encode: (...args: Parameters<typeof encoder.encode>) => {
        encodes++;
        return encoder.encode(...args);
      },
      release: () => encoder.release(),
    });
    const request = { prompt: 'a photo of a cat', steps: 1, guidance: 1, width: 64, height: 64, png: false as const };
    for (const seed of [1, 2, 3]) {
      await mine.apply(own, folder(), { path: TINY_LORA(), scale: 0 }); // the app switches before every job
      await own.generate({ ...request, seed });
    }
    assert.equal(encodes, 1);
  } finally {
    await own.release();
    await mine.release();
  }
});

test("re-applying the same LoRA keeps the guided steps' unconditional halves; another scale does not reuse them", async () => {
  const request = { prompt: 'a photo of a cat', negativePrompt: 'blurry', seed: 7, steps: 1, guidance: 1.5, width: 64, height: 64, png: false as const };
  const restRuns = async (body: () => Promise<unknown>) => {
    let runs = 0;
    const run = ModelSession.prototype.run;
    ModelSession.prototype.run = function (this: ModelSession, feeds) {
      if (this.label.endsWith('(rest)')) runs++;
      return run.call(this, feeds);
    };
    try {
      await body();
    } finally {
      ModelSession.prototype.run = run;
    }
    return runs;
  };
  await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 1 });
  assert.equal(await restRuns(() => pipe.generate(request)), 2);
  await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 1 }); // the app switches before every job
  assert.equal(await restRuns(() => pipe.generate({ ...request, prompt: 'a photo of a dog' })), 1, 'the prompt changed, nothing else');
  await loras.apply(pipe, folder(), { path: TINY_LORA(), scale: 0.5 });
  assert.equal(await restRuns(() => pipe.generate({ ...request, prompt: 'a photo of a bird' })), 2, 'other weights');
});
