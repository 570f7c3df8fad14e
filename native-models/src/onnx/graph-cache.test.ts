// The optimised-graph cache with real onnxruntime sessions on the tiny fixture's graphs, in real
// folders. Only the free space of a full disk is stood in (freeBytes).
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { seeded } from '../../test/small-models.ts';
import { StableDiffusionPipeline } from '../pipeline/pipeline.ts';
import { OptimizedGraphCache } from './graph-cache.ts';
import { unetGraphs } from './graph-rewrites/unet-graph.ts';
import { ort } from './ort.ts';
import { openSession, type ModelSession } from './session.ts';

const root = mkdtempSync(join(tmpdir(), 'yoso-graph-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of a fixture component, so tests can change its files. */
function copyOf(component: 'unet' | 'vae_decoder'): string {
  const dir = mkdtempSync(join(root, `${component}-`));
  cpSync(join(TINY_SD15(), component), dir, { recursive: true });
  return join(dir, 'model.onnx');
}

const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

async function unetOutput(session: ModelSession): Promise<Float32Array> {
  const { outputs } = await session.run({
    sample: new ort.Tensor('float32', seeded(256, 1, 2), [1, 4, 8, 8]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([999n]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', seeded(77 * 32, 2, 2), [1, 77, 32]),
  });
  return Object.values(outputs)[0]!.data as Float32Array;
}

async function openWith(cache: OptimizedGraphCache | undefined, source: string | Uint8Array, externalDataDir?: string): Promise<ModelSession> {
  return openSession(source, { provider: 'cpu', ...(cache ? { graphCache: cache } : {}), ...(externalDataDir ? { externalDataDir } : {}) });
}

test('the first open stores the optimised graph, later opens load it and compute the same to the bit', async () => {
  const cache = new OptimizedGraphCache(join(root, 'cache-a'));
  const unet = copyOf('unet');
  const plain = await openWith(undefined, unet);
  const first = await openWith(cache, unet);
  const second = await openWith(cache, unet);
  try {
    assert.equal(first.graphCache, 'stored');
    assert.equal(second.graphCache, 'hit');
    const [entry] = entries(cache.dir);
    assert.deepEqual(entries(join(cache.dir, entry!)), ['model.onnx', 'model.onnx_data']);
    const expected = await unetOutput(plain);
    assert.deepEqual(await unetOutput(first), expected);
    assert.deepEqual(await unetOutput(second), expected);
  } finally {
    await Promise.all([plain.release(), first.release(), second.release()]);
  }

  // A changed model file misses (its old entry stays until the budget needs the room).
  utimesSync(unet, new Date(), new Date(Date.now() + 60_000));
  const changed = await openWith(cache, unet);
  assert.equal(changed.graphCache, 'stored');
  assert.equal(entries(cache.dir).length, 2);
  await changed.release();
});

test('a rewritten graph in memory is keyed by its bytes and the weight files beside it', async () => {
  const cache = new OptimizedGraphCache(join(root, 'cache-b'));
  const unet = copyOf('unet');
  const graphs = await unetGraphs(unet, { attention: 'fused', layers: 'fast', sharedPrefix: false, precision: 'float32' });
  assert.ok('whole' in graphs);
  const { source, externalDataDir } = graphs.whole;
  const sessions = [await openWith(cache, source, externalDataDir), await openWith(cache, source, externalDataDir)];
  try {
    assert.deepEqual(sessions.map((s) => s.graphCache), ['stored', 'hit']);
    assert.deepEqual(await unetOutput(sessions[1]!), await unetOutput(sessions[0]!));
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
  // Weights handed over in memory (a LoRA-patched UNet) are not cached.
  const patched = await openSession(source, { provider: 'cpu', graphCache: cache, externalData: [] });
  assert.equal(patched.graphCache, 'skipped: weights in memory');
  await patched.release();
});

test('a full disk or a model over the budget opens without caching; the budget evicts the least recently used entry', async () => {
  const unet = copyOf('unet');
  const full = new OptimizedGraphCache(join(root, 'cache-full'), { freeBytes: () => 2 ** 30 });
  const opened = await openWith(full, unet);
  assert.match(opened.graphCache ?? '', /^skipped: 1\.0 GiB free on the disk, the entry needs 0\.0 GiB and 2\.0 GiB stay free$/);
  assert.ok((await unetOutput(opened)).length > 0);
  await opened.release();
  assert.deepEqual(entries(full.dir), []);

  const small = new OptimizedGraphCache(join(root, 'cache-small'), { maxBytes: 1e6 });
  const tooBig = await openWith(small, unet);
  assert.match(tooBig.graphCache ?? '', /exceed the cache's budget/);
  await tooBig.release();

  // Room for one model of these two: storing the VAE evicts the UNet stored before it.
  const budget = new OptimizedGraphCache(join(root, 'cache-budget'), { maxBytes: 17e6 });
  await (await openWith(budget, unet)).release();
  const [unetEntry] = entries(budget.dir);
  const vae = await openWith(budget, copyOf('vae_decoder'));
  assert.equal(vae.graphCache, 'stored');
  await vae.release();
  assert.equal(entries(budget.dir).length, 1);
  assert.ok(!entries(budget.dir).includes(unetEntry!));
});

test('an unreadable entry is rebuilt; staging folders of dead processes go, a live one stays', async () => {
  const cache = new OptimizedGraphCache(join(root, 'cache-c'));
  const unet = copyOf('unet');
  await (await openWith(cache, unet)).release();
  const [entry] = entries(cache.dir);
  truncateSync(join(cache.dir, entry!, 'model.onnx'), 100);
  const rebuilt = await openWith(cache, unet);
  assert.equal(rebuilt.graphCache, 'stored');
  assert.ok((await unetOutput(rebuilt)).length > 0);
  await rebuilt.release();

  const dead = join(cache.dir, '.staging-2147483646-0123');
  const live = join(cache.dir, `.staging-${process.pid}-4567`);
  mkdirSync(dead);
  mkdirSync(live);
  await (await openWith(cache, copyOf('vae_decoder'))).release();
  assert.ok(!existsSync(dead) && existsSync(live));
});

test('a pipeline opened twice with the cache loads every session from it and makes the same image', async () => {
  const cache = new OptimizedGraphCache(join(root, 'cache-pipeline'));
  const request = { prompt: 'a photo of a cat', seed: 318, steps: 1, guidance: 1.5, width: 64, height: 64, png: false as const };
  const images: Uint8Array[] = [];
  for (const expected of ['stored', 'hit']) {
    const pipe = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { provider: 'cpu', graphCache: cache });
    try {
      const { textEncoder, unet, vaeDecoder } = pipe.components as unknown as Record<string, { session: ModelSession; prefix?: ModelSession }>;
      const sessions = [textEncoder!.session, unet!.prefix!, unet!.session, vaeDecoder!.session];
      assert.deepEqual(sessions.map((s) => s.graphCache), sessions.map(() => expected));
      images.push((await pipe.generate(request)).images[0]!.rgb);
    } finally {
      await pipe.release();
    }
  }
  assert.deepEqual(images[1], images[0]);
});
