// The quick preview end to end on the tiny fixture in a real inference child process, with a seeded
// TAESD imported into the test's models folder: with Settings.preview on, each image's job.preview
// (a valid contract event, the preview decoder's picture) arrives before the image is saved; off, or
// with no TAESD installed, there is none and the image is the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import { writeRandomTaesdFile } from '../../native-models/src/checkpoint/testing/write-random-taesd.ts';
import { JobPreview, type HistoryItem } from '../contract/api.ts';
import { startTestStudio, tinyRequest, type TestStudio } from '../test/studio-fixture.ts';

interface Seen {
  order: string[];
  previews: JobPreview[];
  items: HistoryItem[];
}

async function generate(t: TestStudio, preview: 'full-only' | 'preview-then-full', batchSize = 2): Promise<Seen> {
  await t.studio.handlers['settings.set']({ preview });
  const seen: Seen = { order: [], previews: [], items: [] };
  const stop = t.studio.events.subscribe((e) => {
    if (e.name === 'job.preview') {
      seen.order.push(`preview ${e.payload.batchIndex}`);
      seen.previews.push(JobPreview.parse(e.payload));
    }
    if (e.name === 'history.added') {
      seen.order.push(`image ${e.payload.batchIndex}`);
      seen.items.push(e.payload);
    }
  });
  const { jobIds } = await t.studio.handlers['generate.enqueue']({ request: tinyRequest({ batchSize }), count: 1 });
  const job = await t.studio.queue.waitFor(jobIds[0]!);
  stop();
  assert.equal(job.state, 'done', job.error ?? '');
  return seen;
}

const pixelsOf = (item: HistoryItem, t: TestStudio) => decode(readFileSync(t.studio.history.absolutePath(item.imagePath))).data;

describe('quick preview (TAESD) before the full image', () => {
  let t: TestStudio;
  before(async () => {
    t = await startTestStudio();
    const file = join(t.root, 'diffusion_pytorch_model.safetensors');
    writeRandomTaesdFile(file, 11, 'diffusers');
    await t.studio.models.importPath(file);
  });
  after(() => t.close());

  test('preview on: every image of the batch has its preview event first; the history keeps only full images', async () => {
    const on = await generate(t, 'preview-then-full');
    assert.deepEqual(on.order, ['preview 0', 'preview 1', 'image 0', 'image 1']);
    for (const p of on.previews) {
      const png = decode(Buffer.from(p.image.slice('data:image/png;base64,'.length), 'base64'));
      assert.deepEqual([png.width, png.height, p.width, p.height], [64, 64, 64, 64]);
      assert.ok(p.afterMs > 0);
    }
    assert.notDeepEqual(on.previews[0]!.image, on.previews[1]!.image, 'each image has its own preview');
    // The contract takes only PNG data URLs: nothing else can reach an <img> through this event.
    assert.equal(JobPreview.safeParse({ ...on.previews[0], image: 'https://example.com/x.png' }).success, false);

    const off = await generate(t, 'full-only');
    assert.deepEqual(off.order, ['image 0', 'image 1']);
    // The preview changes nothing of the saved image.
    assert.deepEqual(pixelsOf(on.items[0]!, t), pixelsOf(off.items[0]!, t));
    assert.equal(t.studio.history.list({ limit: 10 }).total, 4);
  });

  test('preview on without TAESD installed: no preview, the full image as usual', async () => {
    // Removing it goes through the worker, which closes its session first (Windows keeps open files).
    await t.studio.handlers['models.remove']({ id: 'taesd', confirm: true });
    const seen = await generate(t, 'preview-then-full', 1);
    assert.deepEqual(seen.order, ['image 0']);
  });
});
