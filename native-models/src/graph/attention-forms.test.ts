// Every faster form the builder can emit is checked against the plain one (the standard export's
// maths): 'fused' = com.microsoft MultiHeadAttention in the UNet and the VAE decoder, built so or
// fused when the plain graph is loaded (onnx/graph-rewrites/attention-fusion.ts).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { COMPONENT_BUILDERS } from '../checkpoint/build-sd15.ts';
import { loadCheckpoint } from '../checkpoint/load-weights.ts';
import { fuseAttention } from '../onnx/graph-rewrites/attention-fusion.ts';
import { EditableModel } from '../onnx/graph-rewrites/editable-model.ts';
import { unetGraphs } from '../onnx/graph-rewrites/unet-graph.ts';
import { ort } from '../onnx/ort.ts';
import { openSession } from '../onnx/session.ts';
import { deriveSd15Config } from './sd15-config.ts';
import { writeOnnxModel } from './write-onnx.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-forms-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
const FEEDS: Record<string, () => Record<string, ort.Tensor>> = {
  unet: () => ({
    sample: new ort.Tensor('float32', wave(2 * 4 * 8 * 16, 1.3), [2, 4, 8, 16]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(759n, 259n), [2]),
    encoder_hidden_states: new ort.Tensor('float32', wave(2 * 77 * 32, 0.7), [2, 77, 32]),
  }),
  vae_decoder: () => ({ latent_sample: new ort.Tensor('float32', wave(4 * 8 * 8, 2.1), [1, 4, 8, 8]) }),
};

test('fused attention gives the plain form\'s outputs (UNet, VAE decoder)', async () => {
  const ck = loadCheckpoint(fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors'));
  const cfg = deriveSd15Config(ck.weights, { textEncoder: { num_attention_heads: 2 } });
  for (const [folder, build] of COMPONENT_BUILDERS.filter(([f]) => f in FEEDS)) {
    const outputs: Float32Array[] = [];
    for (const form of ['plain', 'fused'] as const) {
      const out = join(dir, `${folder}-${form}`);
      const graph = build(ck.weights, cfg, form);
      assert.equal(graph.nodes.some((n) => n.opType === 'MultiHeadAttention'), form === 'fused');
      mkdirSync(out);
      writeOnnxModel(graph, out);
      const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
      outputs.push(Object.values(await session.run(FEEDS[folder]!()))[0]!.data as Float32Array);
      await session.release();
    }
    // The load-time fusion turns the plain build into the fused one's nodes, its weights left in
    // the folder's external data file.
    const plainModel = join(dir, `${folder}-plain`, 'model.onnx');
    const heads = build(ck.weights, cfg, 'fused').nodes.filter((n) => n.opType === 'MultiHeadAttention').length;
    assert.equal(fuseAttention(await EditableModel.fromFile(plainModel)).length, heads, `${folder}: attentions fused at load`);
    const graphs = await unetGraphs(plainModel, { attention: 'fused', layers: 'exported', sharedPrefix: false });
    assert.ok('whole' in graphs);
    const graph = graphs.whole;
    // No weight is pulled inline: the rewritten model is no larger than the exported graph file.
    assert.ok(graph.source instanceof Uint8Array && graph.source.length <= statSync(plainModel).size, `${(graph.source as Uint8Array).length} bytes`);
    const session = await openSession(graph.source, { provider: 'cpu', externalDataDir: graph.externalDataDir! });
    outputs.push(Object.values((await session.run(FEEDS[folder]!())).outputs)[0]!.data as Float32Array);
    await session.release();
    const [plain, ...faster] = outputs as [Float32Array, ...Float32Array[]];
    for (const [i, fused] of faster.entries()) {
      let max = 0;
      for (let j = 0; j < plain.length; j++) max = Math.max(max, Math.abs(plain[j]! - fused[j]!));
      assert.ok(max < 1e-4, `${folder}: ${i === 0 ? 'fused build' : 'fused at load'} differs from plain by ${max}`);
    }
  }
});
