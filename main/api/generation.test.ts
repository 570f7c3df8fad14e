// Generation end to end on the real tiny-sd15 pipeline in a real inference child process:
// queue order and seeds, failure isolation, cancel mid-batch keeping finished images, and a
// kill -9 of the inference process during a job.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../contract/api.ts';
import type { AnyEvent } from './events.ts';
import { dispatch } from './dispatch.ts';
import { startTestStudio, TINY_LORA_ID, TINY_MODEL_ID, tinyRequest, type TestStudio } from '../test/studio-fixture.ts';

async function call(t: TestStudio, name: string, input: unknown): Promise<any> {
  const result = await dispatch(t.studio.handlers, name, input);
  if (!result.ok) throw new Error(`${name}: ${result.error.code}: ${result.error.message}`);
  return result.output;
}

const waitAll = (t: TestStudio, ids: string[]) => Promise.all(ids.map((id) => t.studio.queue.waitFor(id)));

function nextEvent(t: TestStudio, match: (e: AnyEvent) => boolean): Promise<AnyEvent> {
  return new Promise((resolve) => {
    const stop = t.studio.events.subscribe((e) => {
      if (match(e)) {
        stop();
        resolve(e);
      }
    });
  });
}

describe('generation through the queue and the inference process', () => {
  let t: TestStudio;
  before(async () => {
    t = await startTestStudio({ lora: true });
  });
  after(() => t.close());

  test('batch count runs in order with seed, seed+1 and saves every image to the history', async () => {
    const added: string[] = [];
    const stop = t.studio.events.subscribe((e) => e.name === 'history.added' && added.push(e.payload.id));
    const { jobIds } = await call(t, 'generate.enqueue', { request: tinyRequest({ seed: 42 }), count: 2 });
    const jobs = await waitAll(t, jobIds);
    stop();
    assert.deepEqual(jobs.map((j) => j.state), ['done', 'done']);
    const items = jobs.map((j) => t.studio.history.get(j.imageIds[0]!)!);
    assert.deepEqual(items.map((i) => i.seed), [42, 43]);
    assert.deepEqual(added, items.map((i) => i.id));
    assert.ok(items.every((i) => existsSync(t.studio.history.absolutePath(i.imagePath))));
    assert.notEqual(items[0]!.imagePath, items[1]!.imagePath);
    assert.equal(items[0]!.provider, 'cpu');
    assert.ok(items[0]!.timingsMs.unet! > 0);
    const listed = await call(t, 'history.list', {});
    assert.equal(listed.total, 2);
  });

  test('the inference process keeps the optimised graphs of the model it loaded in the data folder', () => {
    const dir = join(t.studio.dataDir, 'cache', 'onnx-graphs');
    const entries = readdirSync(dir).filter((name) => !name.startsWith('.'));
    // The text encoder, the UNet's text-free prefix and rest, the VAE decoder.
    assert.ok(entries.length >= 4, `entries: ${entries.join(', ')}`);
    for (const entry of entries) assert.deepEqual(readdirSync(join(dir, entry)).sort(), ['model.onnx', 'model.onnx_data']);
  });

  test('a failing job keeps its error and does not stop the queue', async () => {
    const { jobIds } = await call(t, 'generate.enqueue', {
      request: tinyRequest({ seed: 7 }),
      prompts: ['first', 'second', 'third'],
    });
    // Fail the middle one for real: its model does not exist, then one the pipeline rejects.
    const missing = (await call(t, 'generate.enqueue', { request: tinyRequest({ baseModelId: 'not-installed' }) })).jobIds[0];
    const badSize = (await call(t, 'generate.enqueue', { request: tinyRequest({ width: 72 }) })).jobIds[0];
    const last = (await call(t, 'generate.enqueue', { request: tinyRequest({ prompt: 'after the failures' }) })).jobIds[0];
    const jobs = await waitAll(t, [...jobIds, missing, badSize, last]);
    assert.deepEqual(jobs.map((j) => j.state), ['done', 'done', 'done', 'failed', 'failed', 'done']);
    assert.match(jobs[3]!.error!, /base model "not-installed" is not in the models folder/);
    assert.match(jobs[4]!.error!, /width must be a multiple of 64/);
    assert.deepEqual(jobs.slice(0, 3).map((j) => t.studio.history.get(j.imageIds[0]!)!.request.prompt), ['first', 'second', 'third']);
    assert.equal(t.studio.supervisor.status().state, 'ready');
  });

  test('cancel all mid-batch: the running job stops between UNet steps, finished images stay', async () => {
    const progress: Job['progress'][] = [];
    const request = tinyRequest({ width: 128, height: 128, steps: 8, seed: 100 });
    const { jobIds } = await call(t, 'generate.enqueue', { request, count: 3 });
    // As soon as the second job is inside the UNet loop, cancel everything.
    const stop = t.studio.events.subscribe((e) => {
      if (e.name !== 'job.updated' || e.payload.id !== jobIds[1]) return;
      progress.push(e.payload.progress);
      if (e.payload.progress?.stage === 'unet') void call(t, 'jobs.cancelAll', {});
    });
    const jobs = await waitAll(t, jobIds);
    stop();
    assert.deepEqual(jobs.map((j) => j.state), ['done', 'cancelled', 'cancelled']);
    assert.equal(jobs[0]!.imageIds.length, 1);
    assert.ok(t.studio.history.get(jobs[0]!.imageIds[0]!), 'the finished image is still in the history');
    assert.deepEqual(jobs[1]!.imageIds, []);
    const unetSteps = progress.filter((p) => p?.stage === 'unet').map((p) => p!.step);
    assert.ok(Math.max(...unetSteps) < 8, `stopped after UNet steps ${unetSteps.join(',')}`);
    // The process is still the same one: a cancel is not a crash.
    assert.equal(t.studio.supervisor.status().state, 'ready');
  });

  test('a LoRA from the models folder changes the image; scale 0 gives the base image exactly', async () => {
    const request = tinyRequest({ seed: 11 });
    const { jobIds } = await call(t, 'generate.enqueue', { request, count: 1 });
    const withLora = (await call(t, 'generate.enqueue', { request: { ...request, lora: { id: TINY_LORA_ID, scale: 1 } } })).jobIds;
    const atZero = (await call(t, 'generate.enqueue', { request: { ...request, lora: { id: TINY_LORA_ID, scale: 0 } } })).jobIds;
    const missing = (await call(t, 'generate.enqueue', { request: { ...request, lora: { id: 'no-such-lora', scale: 1 } } })).jobIds;
    const jobs = await waitAll(t, [...jobIds, ...withLora, ...atZero, ...missing]);
    assert.deepEqual(jobs.map((j) => j.state), ['done', 'done', 'done', 'failed']);
    assert.match(jobs[3]!.error!, /LoRA "no-such-lora" is not in the models folder/);
    const pixels = (job: Job) => {
      const item = t.studio.history.get(job.imageIds[0]!)!;
      return Buffer.from(decode(readFileSync(t.studio.history.absolutePath(item.imagePath))).data as Uint8Array);
    };
    const [base, lora, zero] = jobs.slice(0, 3).map(pixels);
    assert.ok(!base!.equals(lora!), 'the LoRA changed the image');
    assert.ok(base!.equals(zero!), 'scale 0 is the base model bit for bit');
    assert.equal(t.studio.history.get(jobs[1]!.imageIds[0]!)!.loraName, TINY_LORA_ID);
  });

  test('kill -9 of the inference process fails only the running job; the next runs on a new process', async () => {
    const before = (await call(t, 'history.list', {})).total;
    const firstPid = t.studio.supervisor.pid!;
    const request = tinyRequest({ width: 128, height: 128, steps: 8, seed: 5 });
    const { jobIds } = await call(t, 'generate.enqueue', { request, count: 2 });
    const statuses: string[] = [];
    const stop = t.studio.events.subscribe((e) => e.name === 'inference.status' && statuses.push(e.payload.state));
    await nextEvent(t, (e) => e.name === 'job.updated' && e.payload.id === jobIds[0] && e.payload.progress?.stage === 'unet');
    process.kill(firstPid, 'SIGKILL');
    const jobs = await waitAll(t, jobIds);
    stop();
    assert.equal(jobs[0]!.state, 'failed');
    assert.match(jobs[0]!.error!, /inference process was killed \(SIGKILL\).*Saved images are safe/);
    assert.equal(jobs[1]!.state, 'done');
    assert.notEqual(t.studio.supervisor.pid, firstPid);
    assert.deepEqual(statuses.filter((s) => s !== 'busy').slice(0, 3), ['crashed', 'restarting', 'ready'], statuses.join(','));
    assert.equal((await call(t, 'history.list', {})).total, before + 1);
  });

  test('generate.prepare loads the named model and LoRA so the next job reports no load; an unknown model is named', async () => {
    await call(t, 'generate.prepare', { baseModelId: TINY_MODEL_ID, lora: { id: TINY_LORA_ID, scale: 0.7 } });
    const { jobIds } = await call(t, 'generate.enqueue', { request: tinyRequest({ lora: { id: TINY_LORA_ID, scale: 0.7 } }) });
    const [job] = await waitAll(t, jobIds);
    const item = t.studio.history.get(job!.imageIds[0]!)!;
    assert.equal(item.timingsMs.load, 0);
    const missing = await dispatch(t.studio.handlers, 'generate.prepare', { baseModelId: 'nope', lora: null });
    assert.ok(!missing.ok && /base model "nope" is not in the models folder/.test(missing.error.message));
  });

  test('Settings.memory low reloads the model with lean sessions and gives the same image (within 1 of 255)', async () => {
    const run = async () => {
      const { jobIds } = await call(t, 'generate.enqueue', { request: tinyRequest({ seed: 77 }) });
      const [job] = await waitAll(t, jobIds);
      const item = t.studio.history.get(job!.imageIds[0]!)!;
      return { item, pixels: decode(readFileSync(t.studio.history.absolutePath(item.imagePath))).data };
    };
    assert.equal((await call(t, 'settings.get', {})).memory, 'normal');
    const normal = await run();
    assert.equal((await call(t, 'settings.set', { memory: 'low' })).memory, 'low');
    try {
      const low = await run();
      assert.ok(low.item.timingsMs.load! > 0, 'the model is reloaded in the other memory mode');
      // Low keeps the VAE decoder as exported; the normal form's rewrites differ by float rounding.
      const differs = Array.from(low.pixels).reduce((max, v, i) => Math.max(max, Math.abs(v - normal.pixels[i]!)), 0);
      assert.equal(low.pixels.length, normal.pixels.length);
      assert.ok(differs <= 1, `low-memory pixels differ by ${differs}`);
    } finally {
      await call(t, 'settings.set', { memory: 'normal' });
    }
  });
});
