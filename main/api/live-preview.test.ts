// Live mode on the tiny fixture in a real inference child process: the picture of the form's settings
// comes back without a history entry (TAESD's when installed, the full decode without it), the newest
// request replaces a running one, and queued jobs come first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import { writeRandomTaesdFile } from '../../native-models/src/checkpoint/testing/write-random-taesd.ts';
import { LivePicture } from '../contract/api.ts';
import { dispatch } from './dispatch.ts';
import { startTestStudio, tinyRequest, type TestStudio } from '../test/studio-fixture.ts';

const pixels = (p: LivePicture) => decode(Buffer.from(p.image.slice('data:image/png;base64,'.length), 'base64'));

describe('live preview (generate.live)', () => {
  let t: TestStudio;
  before(async () => {
    t = await startTestStudio();
  });
  after(() => t.close());

  test('without TAESD the live picture is the full image, and nothing is saved', async () => {
    const before = t.studio.history.list({}).total;
    const live = LivePicture.parse(await t.studio.handlers['generate.live']({ request: tinyRequest({ seed: 7 }) }));
    assert.equal(live.seed, 7);
    const png = pixels(live);
    assert.deepEqual([png.width, png.height], [64, 64]);
    // The same settings through the queue give the same pixels (the full decode).
    const { jobIds } = await t.studio.handlers['generate.enqueue']({ request: tinyRequest({ seed: 7 }), count: 1 });
    const job = await t.studio.queue.waitFor(jobIds[0]!);
    const saved = decode(readFileSync(t.studio.history.absolutePath(t.studio.history.get(job.imageIds[0]!)!.imagePath)));
    assert.deepEqual(png.data, saved.data);
    assert.equal(t.studio.history.list({}).total, before + 1, 'only the queued job saved an image');
  });

  test('with TAESD the live picture is the preview decoder\'s; a newer request replaces the running one', async () => {
    const full = pixels(await t.studio.handlers['generate.live']({ request: tinyRequest({ seed: 7 }) }));
    const file = join(t.root, 'diffusion_pytorch_model.safetensors');
    writeRandomTaesdFile(file, 11, 'diffusers');
    await t.studio.models.importPath(file);
    const request = tinyRequest({ seed: 7 });
    const [first, second] = await Promise.allSettled([
      dispatch(t.studio.handlers, 'generate.live', { request }),
      dispatch(t.studio.handlers, 'generate.live', { request: { ...request, seed: 8 } }),
    ]);
    assert.ok(first.status === 'fulfilled' && !first.value.ok && first.value.error.code === 'conflict', JSON.stringify(first));
    assert.ok(second.status === 'fulfilled' && second.value.ok);
    assert.equal((second.value.output as LivePicture).seed, 8);
    const taesd = pixels(await t.studio.handlers['generate.live']({ request }));
    assert.notDeepEqual(taesd.data, full.data, 'TAESD draws a different (approximate) picture than the VAE');
  });

  test('Generate after a live picture of the same settings decodes its latents: the fresh image, no UNet run', async () => {
    const savedPixels = (jobId: string) => {
      const item = t.studio.history.get(t.studio.queue.get(jobId).imageIds[0]!)!;
      return { item, data: decode(readFileSync(t.studio.history.absolutePath(item.imagePath))).data };
    };
    const request = tinyRequest({ seed: 21, guidance: 1.5, negativePrompt: 'blurry' });
    await t.studio.handlers['generate.live']({ request });
    const reused = await t.studio.handlers['generate.enqueue']({ request, count: 1 });
    await t.studio.queue.waitFor(reused.jobIds[0]!);
    const a = savedPixels(reused.jobIds[0]!);
    assert.equal(a.item.timingsMs.reusedLivePicture, 1);
    assert.equal(a.item.timingsMs.unet, 0);
    // Another live picture replaces the kept latents: the same settings now run the UNet afresh.
    await t.studio.handlers['generate.live']({ request: { ...request, seed: 22 } });
    const fresh = await t.studio.handlers['generate.enqueue']({ request, count: 1 });
    await t.studio.queue.waitFor(fresh.jobIds[0]!);
    const b = savedPixels(fresh.jobIds[0]!);
    assert.equal(b.item.timingsMs.reusedLivePicture, undefined);
    assert.ok(b.item.timingsMs.unet! > 0);
    assert.deepEqual(a.data, b.data);
  });

  test('while the queue generates, a live request is refused with unavailable', async () => {
    const { jobIds } = await t.studio.handlers['generate.enqueue']({ request: tinyRequest({ width: 256, height: 256, steps: 4 }), count: 1 });
    const refused = await dispatch(t.studio.handlers, 'generate.live', { request: tinyRequest() });
    assert.ok(!refused.ok && refused.error.code === 'unavailable' && /queue is generating/.test(refused.error.message));
    await t.studio.queue.waitFor(jobIds[0]!);
  });
});
