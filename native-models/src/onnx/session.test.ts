import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { providerCandidates } from './providers.ts';
import { checkFeeds, openSession } from './session.ts';
import { floatTensor, integerTensor } from './tensors.ts';

const vae = () => join(TINY_SD15(), 'vae_decoder', 'model.onnx');

test('auto prefers the platform accelerator, then CPU', () => {
  assert.deepEqual(providerCandidates('auto', 'win32'), ['dml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'cpu']);
  assert.deepEqual(providerCandidates('cpu'), ['cpu']);
  assert.deepEqual(providerCandidates('dml'), ['dml', 'cpu']);
});

// This machine has no GPU and onnxruntime-node was installed without its CUDA libraries, so asking
// for CUDA or DirectML is a real failure to start, not a simulated one.
test('a provider that cannot start falls back to CPU and says why', async () => {
  for (const provider of ['cuda', 'dml'] as const) {
    const session = await openSession(vae(), { provider, label: 'vae' });
    try {
      assert.equal(session.provider.requested, provider);
      assert.equal(session.provider.used, 'cpu');
      assert.match(session.provider.fallbackReason ?? '', new RegExp(provider));
    } finally {
      await session.release();
    }
  }
});

test('sessions open from bytes, check feeds before run, time the run, and release', async () => {
  const { readFileSync } = await import('node:fs');
  const session = await openSession(new Uint8Array(readFileSync(vae())), { provider: 'cpu', label: 'vae bytes' });
  assert.deepEqual(session.provider, { requested: 'cpu', used: 'cpu' });
  const latents = floatTensor('float32', new Float32Array(4 * 8 * 8), [1, 4, 8, 8]);
  await assert.rejects(session.run({}), /vae bytes: input "latent_sample" was not given/);
  await assert.rejects(
    session.run({ latent_sample: integerTensor('int64', new Array(256).fill(0), [1, 4, 8, 8]) }),
    /input "latent_sample" expects float32, got int64/,
  );
  await assert.rejects(
    session.run({ latent_sample: floatTensor('float32', new Float32Array(256), [4, 8, 8]) }),
    /expects shape \[batch_size, num_channels_latent, height_latent, width_latent\], got \[4, 8, 8\]/,
  );
  await assert.rejects(session.run({ latent_sample: latents, extra: latents }), /has no input "extra"/);
  const { outputs, ortMs } = await session.run({ latent_sample: latents });
  assert.deepEqual(outputs.sample?.dims, [1, 3, 64, 64]);
  assert.ok(ortMs > 0 && session.ortTimeMs >= ortMs);
  await session.release();
  await assert.rejects(session.run({ latent_sample: latents }), /released/);
});

test('fixed axes are checked against the feed', () => {
  const signature = { inputs: [{ name: 'x', type: 'float32', shape: [1, 4] }], outputs: [] };
  assert.throws(() => checkFeeds('m', signature, { x: floatTensor('float32', new Float32Array(8), [2, 4]) }), /expects 1 on axis 0/);
});

test('a file that is not a model fails with the label', async () => {
  await assert.rejects(openSession(join(TINY_SD15(), 'model_index.json'), { provider: 'cpu', label: 'model_index.json' }), /model_index\.json: onnxruntime could not load the model/);
});
