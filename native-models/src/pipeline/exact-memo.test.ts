// Kept UNet outputs: found only for byte-identical inputs of the same shape; in the pipeline (tiny
// fixture, real sessions) a prompt edited with the seed fixed runs one guided half and the text-free
// prefix once fewer and still gives, bit for bit, the image a fresh pipeline makes.
import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { OnnxUNet } from './components.ts';
import { StableDiffusionPipeline } from './pipeline.ts';
import type { GenerateRequest } from './request.ts';
import { ExactMemo, type MemoKey } from './exact-memo.ts';

const values = (...v: number[]) => Float32Array.from(v);

const key = (timestep: number, dims: number[], ...inputs: Float32Array[]): MemoKey => ({ timestep, dims, inputs });

test('an entry is found for byte-identical inputs of the same shape only', () => {
  const kept = new ExactMemo<string>(4);
  kept.remember(key(999, [1, 3], values(1, 2, 3), values(4, 5)), 'kept');
  assert.equal(kept.find(key(999, [1, 3], values(1, 2, 3), values(4, 5))), 'kept');
  assert.equal(kept.find(key(759, [1, 3], values(1, 2, 3), values(4, 5))), undefined, 'another timestep');
  assert.equal(kept.find(key(999, [3, 1], values(1, 2, 3), values(4, 5))), undefined, 'the same values in another shape');
  assert.equal(kept.find(key(999, [1, 3], values(1, 2, 3.0000002), values(4, 5))), undefined, 'latents one ulp apart');
  assert.equal(kept.find(key(999, [1, 3], values(1, 2, 3), values(4, 6))), undefined, 'another negative text');
  assert.equal(kept.find(key(999, [1, 3], values(1, 2, 3))), undefined, 'fewer inputs');
  assert.equal(kept.find(key(999, [1, 2], values(1, 2), values(4, 5))), undefined, 'a shorter sample');
  assert.equal(kept.find(key(999, [1, 3], values(-0, 2, 3), values(4, 5))), undefined, 'compared as bytes: -0 is not a kept 1');
});

test('keys are copies, and the least recently used entry goes first', () => {
  const kept = new ExactMemo<number>(2);
  const sample = values(1);
  const dims = [1, 1];
  kept.remember(key(1, dims, sample), 10);
  sample[0] = 99; // the caller reuses its buffers
  dims[1] = 2;
  assert.equal(kept.find(key(1, [1, 1], values(1))), 10);
  kept.remember(key(2, [1, 1], values(2)), 20);
  assert.equal(kept.find(key(1, [1, 1], values(1))), 10, 'entry 1 used last');
  kept.remember(key(3, [1, 1], values(3)), 30);
  assert.equal(kept.find(key(2, [1, 1], values(2))), undefined, 'entry 2 was the least recently used');
  assert.equal(kept.find(key(1, [1, 1], values(1))), 10);
  kept.clear();
  assert.equal(kept.find(key(3, [1, 1], values(3))), undefined);
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

/** Runs of the UNet's text-free prefix and of its text-reading rest during `body`. */
async function unetRuns(p: StableDiffusionPipeline, body: () => Promise<unknown>): Promise<{ prefix: number; rest: number }> {
  const unet = p.components.unet;
  assert.ok(unet instanceof OnnxUNet && unet.prefix, 'the UNet runs as prefix + rest');
  const before = { prefix: unet.prefix.runs, rest: unet.session.runs };
  await body();
  return { prefix: unet.prefix.runs - before.prefix, rest: unet.session.runs - before.rest };
}
const restRuns = async (p: StableDiffusionPipeline, body: () => Promise<unknown>) => (await unetRuns(p, body)).rest;

test('a prompt edited with the seed fixed runs the prefix and the unconditional half of the first step once', async () => {
  assert.deepEqual(await unetRuns(pipeline, () => pipeline.generate(CAT)), { prefix: 2, rest: 4 }, 'two guided steps: a prefix and two halves each');
  let dog!: Awaited<ReturnType<StableDiffusionPipeline['generate']>>;
  assert.deepEqual(
    await unetRuns(pipeline, async () => (dog = await pipeline.generate(DOG))),
    { prefix: 1, rest: 3 },
    "the first step reuses its prefix's outputs and its unconditional half",
  );
  const reference = await fresh.generate(DOG);
  assert.deepEqual(dog.latents.final, reference.latents.final, 'the same latents, bit for bit');
  assert.deepEqual(dog.images[0]!.rgb, reference.images[0]!.rgb);

  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...DOG, seed: 319 })), 4, 'another seed: other latents');
  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...DOG, negativePrompt: 'dark' })), 4, 'another negative text');
  assert.equal(await restRuns(pipeline, () => pipeline.generate({ ...CAT, prompt: 'a photo of a bird' })), 3, 'only first steps are kept: the two since did not push it out');
  for (const seed of [320, 321, 322, 323]) await pipeline.generate({ ...CAT, seed, steps: 1 });
  assert.equal(await restRuns(pipeline, () => pipeline.generate(CAT)), 4, 'four newer first steps pushed it out');
  assert.equal(await restRuns(pipeline, () => pipeline.generate(DOG)), 3, 'and kept it again');
});

test('guidance 1: a prompt edited with the seed fixed runs only the text-reading rest', async () => {
  const unguided = { ...CAT, steps: 1, guidance: 1, seed: 5 };
  assert.deepEqual(await unetRuns(pipeline, () => pipeline.generate(unguided)), { prefix: 1, rest: 1 });
  let edited!: Awaited<ReturnType<StableDiffusionPipeline['generate']>>;
  assert.deepEqual(await unetRuns(pipeline, async () => (edited = await pipeline.generate({ ...unguided, prompt: 'a photo of a fox' }))), { prefix: 0, rest: 1 });
  assert.deepEqual(edited.images[0]!.rgb, (await fresh.generate({ ...unguided, prompt: 'a photo of a fox' })).images[0]!.rgb, 'bit for bit');
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
