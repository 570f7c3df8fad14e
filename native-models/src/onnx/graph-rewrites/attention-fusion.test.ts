// Attention fusion on the graphs it is meant for: the tiny fixture's UNet and VAE decoder as
// diffusers and torch exported them (batched heads, baddbmm), and this repo's plain builder form
// (4-D heads, in ../../graph/attention-forms.test.ts). Each against the unfused graph's outputs.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference-cases.ts';
import { seeded } from '../../../test/small-models.ts';
import { ort } from '../ort.ts';
import { fuseAttention } from './attention-fusion.ts';
import { EditableModel } from './editable-model.ts';

async function outputs(model: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model as string);
  try {
    return Object.values(await session.run(feeds))[0]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const count = (m: EditableModel, op: string) => m.graph.node.filter((n) => n.opType === op).length;

test('the exported tiny UNet: every attention fused, same prediction (batch 2, non-square)', async () => {
  const path = join(TINY_SD15(), 'unet', 'model.onnx');
  const m = await EditableModel.fromFile(path);
  const softmaxes = count(m, 'Softmax');
  assert.ok(softmaxes >= 4);
  const fused = fuseAttention(m);
  assert.equal(fused.length, softmaxes);
  assert.equal(count(m, 'MultiHeadAttention'), softmaxes);
  assert.equal(count(m, 'Softmax'), 0);
  const context = (await ort.InferenceSession.create(path)).inputMetadata.find((i) => i.name === 'encoder_hidden_states') as { shape?: Array<number | string> } | undefined;
  const width = Number(context?.shape?.[2]);
  assert.ok(width > 0, 'context width from the graph');
  const feeds = {
    sample: new ort.Tensor('float32', seeded(2 * 4 * 8 * 16, 3, 2), [2, 4, 8, 16]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(759n), [1]),
    encoder_hidden_states: new ort.Tensor('float32', seeded(2 * 77 * width, 4, 2), [2, 77, width]),
  };
  const d = maxAbsDiff(await outputs(m.encode(), feeds), await outputs(path, feeds));
  assert.ok(d < 1e-4, `fused prediction differs by ${d}`);
});

test('the exported tiny VAE decoder: its mid-block attention fused, same pixels', async () => {
  const path = join(TINY_SD15(), 'vae_decoder', 'model.onnx');
  const m = await EditableModel.fromFile(path);
  assert.equal(fuseAttention(m).length, 1);
  const feeds = { latent_sample: new ort.Tensor('float32', seeded(4 * 8 * 8, 11, 6), [1, 4, 8, 8]) };
  const d = maxAbsDiff(await outputs(m.encode(), feeds), await outputs(path, feeds));
  assert.ok(d < 1e-4, `fused pixels differ by ${d}`);
});

test('a graph with nothing to fuse is left as it was', async () => {
  const m = await EditableModel.fromFile(join(TINY_SD15(), 'text_encoder', 'model.onnx'));
  const before = m.graph.node.length;
  // CLIP's attention adds a causal mask to the scores: not the pattern, so nothing changes.
  assert.deepEqual(fuseAttention(m), []);
  assert.equal(m.graph.node.length, before);
});
