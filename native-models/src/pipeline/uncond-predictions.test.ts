// The kept unconditional halves of guided steps: found only for byte-identical inputs, and in the
// pipeline (tiny fixture, real sessions) a prompt edited with the seed fixed runs one UNet half
// fewer and still gives, bit for bit, the image a fresh pipeline makes.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { OnnxUNet } from './components.ts';
import { StableDiffusionPipeline } from './pipeline.ts';
import type { GenerateRequest } from './request.ts';
import { UncondPredictions } from './uncond-predictions.ts';

const values = (...v: number[]) => Float32Array.from(v);

test('an entry is found for byte-identical inputs only', () => {
  const kept = new UncondPredictions();
  const sample = values(1, 2, 3);
  const hidden = values(4, 5);
  kept.remember(999, [1, 3], sample, hidden, values(7, 8, 9));
  assert.deepEqual(kept.find(999, [1, 3], values(1, 2, 3), values(4, 5)), values(7, 8, 9));
  assert.equal(kept.find(759, [1, 3], sample, hidden), undefined, 'another timestep');
  assert.equal(kept.find(999, [3, 1], sample, hidden), undefined, 'the same values in another shape');
  assert.equal(kept.find(999, [1, 3], values(1, 2, 3.0000002), hidden), undefined, 'latents one ulp apart');
  assert.equal(kept.find(999, [1, 3], sample, values(4, 6)), undefined, 'another negative text');
  assert.equal(kept.find(999, [1, 2], values(1, 2), hidden), undefined, 'a shorter sample');
  assert.equal(kept.find(999, [1, 3], values(-0, 2, 3), hidden), undefined, 'compared as bytes: -0 is not a kept 1');
});

test('entries are copies, and the least recently used goes first', () => {
  const kept = new UncondPredictions(2);
  const sample = values(1);
  const prediction = values(10);
  const dims = [1, 1];
  kept.remember(1, dims, sample, values(0), prediction);
  sample[0] = 99; // the caller reuses its buffers
  prediction[0] = 99;
  dims[1] = 2;
  assert.deepEqual(kept.find(1, [1, 1], values(1), values(0)), values(10));
  kept.remember(2, [1, 1], values(2), values(0), values(20));
  assert.ok(kept.find(1, [1, 1], values(1), values(0)), 'entry 1 used last');
  kept.remember(3, [1, 1], values(3), values(0), values(30));
  assert.equal(kept.find(2, [1, 1], values(2), values(0)), undefined, 'entry 2 was the least recently used');
  assert.ok(kept.find(1, [1, 1], values(1), values(0)));
  kept.clear();
  assert.equal(kept.find(3, [1, 1], values(3), values(0)), undefined);
});

const CAT: GenerateRequest = { prompt: 'a photo of a cat', negativePrompt: 'blurry', seed: 318, steps: 2, guidance: 1.5, width: 64, height: 64, batchSize: 1, png: false };
const DOG: GenerateRequest = { ...CAT, prompt: 'a photo of a dog' };

let pipeline: StableDiffusionPipeline;
let fresh: StableDiffusionPipeline;
before(async () => {
  // Split guidance is the CPU default; said here because the kept halves exist only there.
  pipeline = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'cpu', cfgBatching: 'split' });
  fresh = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'cpu', cfgBatching: 'split' });
});
after(async () => {
  await Promise.all([pipeline.release(), fresh.release()]);
});

/** Runs of the UNet's text-reading part (the rest after the shared prefix) during `body`. */
async function restRuns(p: StableDiffusionPipeline, body: () => Promise<unknown>): Promise<number> {
  const unet = p.components.unet;
  assert.ok(unet instanceof OnnxUNet && unet.prefix, 'the UNet runs as prefix + rest');
  const before = unet.session.runs;
  await body();
  return unet.session.runs - before;
}

test('a prompt edited with the seed fixed runs the unconditional half of the first step once', async () => {
  assert.equal(await restRuns(pipeline, () => pipeline.generate(CAT)), 4, 'two guided steps: four halves');
  let dog!: Awaited<ReturnType<StableDiffusionPipeline['generate']>>;
  assert.equal(await restRuns(pipeline, async () => (dog = await pipeline.generate(DOG))), 3, 'the first step reuses its unconditional half');
  const reference = await fresh.generate(DOG);
  assert.deepEqual(dog.latents.final, reference.latents.final, 'the same latents, bit for bit');
  assert.deepEqual(dog.images[0]!.rgb, reference.images[0]!.rgb);

  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...DOG, seed: 319 })), 4, 'another seed: other latents');
  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...DOG, negativePrompt: 'dark' })), 4, 'another negative text');
  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...CAT, steps: 1 })), 2, 'seed 318 again: four newer entries pushed it out');
  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...DOG, steps: 1 })), 1, 'and kept it again');
});

test('portrait after landscape with the same seed: the same noise values in another shape run both halves', async () => {
  const wide = { ...CAT, steps: 1, width: 128, height: 64 };
  const tall = { ...DOG, steps: 1, width: 64, height: 128 };
  const first = await pipeline.generate(wide);
  let portrait!: Awaited<ReturnType<StableDiffusionPipeline['generate']>>;
  assert.equal(await restRuns(pipeline, async () => (portrait = await pipeline.generate(tall))), 2);
  assert.deepEqual(portrait.latents.initial, first.latents.initial, 'one seed, the same values');
  assert.deepEqual(portrait.latents.final, (await fresh.generate(tall)).latents.final);
});

test('a replaced UNet does not find the halves of the one before', async () => {
  await pipeline.generate(CAT);
  const own = pipeline.components.unet;
  const other = fresh.components.unet;
  pipeline.replaceUnet(other);
  try {
    assert.equal(await restRuns(pipeline, () => pipeline.generate(DOG)), 4);
  } finally {
    pipeline.replaceUnet(own);
  }
  assert.equal(await restRuns(pipeline, () => pipeline.generate(CAT)), 4, 'swapping back clears again');
});
