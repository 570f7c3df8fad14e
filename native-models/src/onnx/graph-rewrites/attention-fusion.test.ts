// Attention fusion on the graphs it is meant for: the tiny fixture's UNet and VAE decoder as
// diffusers and torch exported them (batched heads, baddbmm), torch's scaled_dot_product_attention
// export built here, and this repo's plain builder form (4-D heads, in
// ../../graph/attention-forms.test.ts). Each against the unfused graph's outputs.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference-cases.ts';
import { firstOutput, floatData, seeded } from '../../../test/small-models.ts';
import { GraphBuilder } from '../../graph/graph-builder.ts';
import { writeOnnxModel } from '../../graph/write-onnx.ts';
import { applyLora } from '../../lora/apply-lora.ts';
import { readLoraFile } from '../../lora/lora-file.ts';
import { fusedExternalData } from '../../lora/patched-session.ts';
import { LORA_CASES, replayUnetStep, TINY_LORA, TINY_UNET } from '../../lora/test/helpers.ts';
import { ort } from '../ort.ts';
import { OnnxModel } from '../proto/onnx-model.ts';
import { DataType } from '../proto/onnx-schema.ts';
import { fuseAttention } from './attention-fusion.ts';
import { EditableModel } from './editable-model.ts';
import { attentionFor, unetGraphs } from './unet-graph.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-attention-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
  const d = maxAbsDiff(await firstOutput(m.encode(), feeds), await firstOutput(path, feeds));
  assert.ok(d < 1e-4, `fused prediction differs by ${d}`);
});

test('the exported tiny VAE decoder: its mid-block attention fused, same pixels', async () => {
  const path = join(TINY_SD15(), 'vae_decoder', 'model.onnx');
  const m = await EditableModel.fromFile(path);
  assert.equal(fuseAttention(m).length, 1);
  const feeds = { latent_sample: new ort.Tensor('float32', seeded(4 * 8 * 8, 11, 6), [1, 4, 8, 8]) };
  const d = maxAbsDiff(await firstOutput(m.encode(), feeds), await firstOutput(path, feeds));
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
  const graphs = await unetGraphs(patched!.modelBytes, { attention: 'fused', layers: 'exported', sharedPrefix: false, precision: 'float32' });
  assert.equal(graphs.form.attention, 'fused');
  assert.ok('whole' in graphs);
  const graph = graphs.whole;
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

test('attention is fused unless the sessions got CoreML or WebGPU, or the caller chose', () => {
  assert.equal(attentionFor('auto', 'cpu'), 'fused');
  assert.equal(attentionFor('auto', 'cuda'), 'fused');
  assert.equal(attentionFor('auto', 'dml'), 'fused');
  assert.equal(attentionFor('auto', 'coreml'), 'exported');
  assert.equal(attentionFor('auto', 'webgpu'), 'exported');
  assert.equal(attentionFor('fused', 'coreml'), 'fused');
  assert.equal(attentionFor('exported', 'cpu'), 'exported');
});

/**
 * One attention as torch >= 2.1 exports diffusers' AttnProcessor2_0 (scaled_dot_product_attention):
 * 4-D heads, the key transposed by SDPA itself, q and kᵀ each times Sqrt(scale), the scale either a
 * constant or torch's default computed from the query's shape.
 */
function sdpaModel(name: string, scale: 'constant' | 'default'): string {
  const [c, heads] = [16, 2];
  const g = new GraphBuilder(name);
  const x = g.input('x', 'float32', [1, 'n', c]);
  const project = (p: string, seed: number) => g.op('MatMul', [x, g.initializer(`${p}.weight`, 'float32', [c, c], floatData(seeded(c * c, seed, 0.8)))]);
  const split = (v: string) => g.op('Transpose', [g.op('Reshape', [v, g.constInt64([0, -1, heads, c / heads])])], { perm: [0, 2, 1, 3] });
  const [q, k, v] = [split(project('q', 1)), split(project('k', 2)), split(project('v', 3))];
  let s: string;
  if (scale === 'constant') {
    s = g.constFloat([0.3], []);
  } else {
    const last = g.op('Slice', [g.op('Shape', [q]), g.constInt64([-1]), g.constInt64([2 ** 53])]);
    s = g.op('Div', [g.constFloat([1], []), g.op('Sqrt', [g.op('Cast', [last], { to: DataType.FLOAT })])]);
  }
  const qs = g.op('Mul', [q, g.op('Sqrt', [s])]);
  const ks = g.op('Mul', [g.op('Transpose', [k], { perm: [0, 1, 3, 2] }), g.op('Sqrt', [s])]);
  const probs = g.op('Softmax', [g.op('MatMul', [qs, ks])], { axis: -1 });
  const out = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), g.constInt64([0, -1, c])]);
  g.output(out, 'y', 'float32', [1, 'n', c]);
  writeOnnxModel(g.build(), dir, `${name}.onnx`);
  return join(dir, `${name}.onnx`);
}

for (const scale of ['constant', 'default'] as const) {
  test(`torch's scaled_dot_product_attention export (${scale} scale) is fused and computes the same`, async () => {
    const path = sdpaModel(`sdpa-${scale}`, scale);
    const m = await EditableModel.fromFile(path);
    assert.equal(fuseAttention(m).length, 1);
    assert.deepEqual(m.graph.node.map((n) => n.opType).sort(), ['MatMul', 'MatMul', 'MatMul', 'MultiHeadAttention', 'Identity'].sort());
    const feeds = { x: new ort.Tensor('float32', seeded(1 * 12 * 16, 9, 2), [1, 12, 16]) };
    const d = maxAbsDiff(await firstOutput(m.encode(), feeds), await firstOutput(path, feeds));
    assert.ok(d < 1e-5, `fused attention differs by ${d}`);
  });
}
