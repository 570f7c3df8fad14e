import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { ort } from '../onnx/ort.ts';
import type { PatchedModel } from './fuse-lora.ts';
import { LoraSessions, type SessionOpener } from './lora-sessions.ts';
import { createPatchedSession } from './patched-session.ts';
import {
  caseSteps,
  fixtureLoraTensors,
  LORA_CASES,
  maxAbsDiff,
  replayUnetStep,
  tempDir,
  TINY_LORA,
  TINY_UNET,
  writeExternalDataUnet,
  writeLora,
} from './test/helpers.ts';

/** The fixture's own bound for ONNX vs torch UNet outputs is 5e-6; LoRA fusion adds float32 rounding. */
const UNET_TOLERANCE = 2e-5;

const opener = (opened: Array<string | PatchedModel>): SessionOpener<ort.InferenceSession> => async (source) => {
  opened.push(source);
  // Graph optimisation off: the tests are about weights, and the shared test machine is slow.
  const options = { graphOptimizationLevel: 'disabled' } as const;
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : createPatchedSession(source, options);
};

async function assertReproducesCase(session: ort.InferenceSession, caseName: string) {
  for (let step = 0; step < caseSteps(caseName).length; step++) {
    const { out, expected } = await replayUnetStep(session, caseName, step);
    const diff = maxAbsDiff(out, expected);
    assert.ok(diff < UNET_TOLERANCE, `${caseName} step ${step}: max |onnx - diffusers| = ${diff}`);
  }
}

test('the patched UNet reproduces diffusers fuse_lora on every recorded step of the LoRA cases', async () => {
  const sessions = new LoraSessions(opener([]), 1e9);
  for (const { name, scale } of LORA_CASES) {
    const { unet, report } = await sessions.sessions({ unet: TINY_UNET() }, { path: TINY_LORA(), scale });
    assert.equal(report?.applied.unet, 277);
    await assertReproducesCase(unet, name);
  }
  // The base UNet does not (the LoRA changes the output visibly).
  const { unet } = await sessions.sessions({ unet: TINY_UNET() });
  const { out, expected } = await replayUnetStep(unet, LORA_CASES[0].name, 0);
  assert.ok(maxAbsDiff(out, expected) > 0.01);
  await sessions.releaseAll();
});

test('a UNet with its weights in external data: fused in memory, nothing written, original untouched', async (t) => {
  const dir = tempDir(t);
  const unetPath = await writeExternalDataUnet(dir);
  const dataBefore = statSync(`${dir}/model.onnx_data`);
  const opened: Array<string | PatchedModel> = [];
  const sessions = new LoraSessions(opener(opened), 1e9);
  const { unet } = await sessions.sessions({ unet: unetPath }, { path: TINY_LORA(), scale: 1 });
  await assertReproducesCase(unet, LORA_CASES[0].name);
  const patched = opened[0] as PatchedModel;
  // The graph stays small: weights are references into the fused blob or the original file.
  assert.ok(patched.modelBytes.length < 2_500_000, `patched graph is ${patched.modelBytes.length} bytes`);
  assert.ok(!Buffer.from(patched.modelBytes).includes('model.onnx_data'), 'no weight is read from disk by the session');
  const dataAfter = statSync(`${dir}/model.onnx_data`);
  assert.equal(dataAfter.mtimeMs, dataBefore.mtimeMs);
  assert.deepEqual(readFileSync(`${dir}/model.onnx`).length, statSync(unetPath).size);
  await sessions.releaseAll();
});

test('swap A -> B -> A reuses the kept session; an exhausted budget releases the least recently used', async (t) => {
  const dir = tempDir(t);
  const baseA = { unet: TINY_UNET() };
  const baseB = { unet: await writeExternalDataUnet(dir) };
  const lora = { path: TINY_LORA(), scale: 1 };

  const opened: Array<string | PatchedModel> = [];
  const roomy = new LoraSessions(opener(opened), 1e9);
  const a1 = await roomy.sessions(baseA, lora);
  const b1 = await roomy.sessions(baseB, lora);
  const a2 = await roomy.sessions(baseA, lora);
  assert.deepEqual([a1.reused, b1.reused, a2.reused], [false, false, true]);
  assert.equal(a2.unet, a1.unet, 'the very same session object');
  assert.equal(opened.length, 2);
  assert.deepEqual(a2.timings, { readMs: 0, fuseMs: 0, openMs: 0 });
  assert.equal(a2.report?.applied.unet, 277);
  await roomy.releaseAll();

  // A budget that holds one patched UNet (~12 MB of fused weights here): B evicts A.
  const tight = new LoraSessions(opener([]), 15_000_000);
  const a = await tight.sessions(baseA, lora);
  await tight.sessions(baseB, lora);
  assert.equal(tight.keptKeys().length, 1);
  await assert.rejects(replayUnetStep(a.unet, LORA_CASES[0].name, 0), 'A was released');
  const again = await tight.sessions(baseA, lora);
  assert.equal(again.reused, false);
  await assertReproducesCase(again.unet, LORA_CASES[0].name);
  await tight.releaseAll();
});

test('scale 0 is the UNet without LoRA, and a changed LoRA file is not served from the cache', async (t) => {
  const sessions = new LoraSessions(opener([]), 1e9);
  const plain = await sessions.sessions({ unet: TINY_UNET() });
  const zero = await sessions.sessions({ unet: TINY_UNET() }, { path: TINY_LORA(), scale: 0 });
  assert.equal(zero.unet, plain.unet);
  assert.equal(zero.report?.applied.unet, 0);

  // Scale 0 still refuses a file that is not a LoRA for this model.
  const dir = tempDir(t);
  const bad = writeLora(dir, 'bad.safetensors', new Map([['x.weight', { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) }]]));
  await assert.rejects(sessions.sessions({ unet: TINY_UNET() }, { path: bad, scale: 0 }), /holds no SD 1\.5 UNet/);

  const path = writeLora(dir, 'mine.safetensors', fixtureLoraTensors());
  const first = await sessions.sessions({ unet: TINY_UNET() }, { path, scale: 1 });
  const tensors = fixtureLoraTensors();
  tensors.delete('lora_unet_mid_block_resnets_0_conv1.lora_up.weight');
  writeLora(dir, 'mine.safetensors', tensors);
  const second = await sessions.sessions({ unet: TINY_UNET() }, { path, scale: 1 });
  assert.equal(second.reused, false);
  assert.equal(second.report?.applied.unet, 276);
  assert.equal(first.report?.applied.unet, 277);
  await sessions.releaseAll();
});
