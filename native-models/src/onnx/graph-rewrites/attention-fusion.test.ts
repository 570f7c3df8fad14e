// Attention fusion on the graphs it is meant for: the tiny fixture's UNet and VAE decoder as
// diffusers and torch exported them (batched heads, baddbmm), and this repo's plain builder form
// (4-D heads, in ../../graph/attention-forms.test.ts). Each against the unfused graph's outputs.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference-cases.ts';
import { seeded } from '../../../test/small-models.ts';
import { applyLora } from '../../lora/apply-lora.ts';
import { readLoraFile } from '../../lora/lora-file.ts';
import { fusedExternalData } from '../../lora/patched-session.ts';
import { LORA_CASES, replayUnetStep, TINY_LORA, TINY_UNET } from '../../lora/test/helpers.ts';
import { ort } from '../ort.ts';
import { OnnxModel } from '../proto/onnx-model.ts';
import { DataType } from '../proto/onnx-schema.ts';
import { fuseAttention } from './attention-fusion.ts';
import { EditableModel } from './editable-model.ts';
import { attentionFor, unetGraph } from './unet-attention.ts';

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

test('a LoRA-patched UNet (weights handed over in memory) is fused from its bytes and predicts as unfused', async () => {
  const model = await OnnxModel.load(TINY_UNET());
  const { unet: patched } = await applyLora(await readLoraFile(TINY_LORA()), { unet: model }, 0.75);
  const graph = await unetGraph(patched!.modelBytes, 'fused');
  assert.equal(graph.attention, 'fused');
  assert.equal(graph.externalDataDir, undefined);
  const options = { externalData: fusedExternalData(patched!) };
  const fused = await ort.InferenceSession.create(graph.source as Uint8Array, options);
  const exported = await ort.InferenceSession.create(patched!.modelBytes, options);
  try {
    const [a, b] = [await replayUnetStep(fused, LORA_CASES[0].name, 0), await replayUnetStep(exported, LORA_CASES[0].name, 0)];
    assert.ok(maxAbsDiff(a.out, b.out) < 1e-4, `fused prediction differs by ${maxAbsDiff(a.out, b.out)}`);
  } finally {
    await Promise.all([fused.release(), exported.release()]);
  }
});

test('a half-precision export keeps its attention (the CPU kernel is float32)', async () => {
  const m = await EditableModel.fromFile(join(TINY_SD15(), 'vae_decoder', 'model.onnx'));
  const latents = m.graph.input.find((i) => i.name === m.firstInput)!;
  latents.type!.tensorType!.elemType = DataType.FLOAT16;
  assert.deepEqual(fuseAttention(m), []);
  assert.equal(count(m, 'Softmax'), 1);
});

test('attention is fused unless CoreML is the first provider tried, or the caller chose', () => {
  assert.equal(attentionFor('auto', 'cpu', 'darwin'), 'fused');
  assert.equal(attentionFor('auto', 'auto', 'linux'), 'fused');
  assert.equal(attentionFor('auto', 'dml', 'win32'), 'fused');
  assert.equal(attentionFor('auto', 'auto', 'darwin'), 'exported');
  assert.equal(attentionFor('auto', 'coreml', 'darwin'), 'exported');
  assert.equal(attentionFor('fused', 'coreml', 'darwin'), 'fused');
  assert.equal(attentionFor('exported', 'cpu', 'linux'), 'exported');
});
