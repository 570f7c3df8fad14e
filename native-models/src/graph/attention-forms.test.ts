// The builder writes the standard export's attention (MatMul, Softmax, MatMul); the app fuses it into
// com.microsoft MultiHeadAttention when it loads the UNet and the VAE decoder
// (onnx/graph-rewrites/attention-fusion.ts). Checked here on the builder's own graphs.
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

test("the builder's graphs (the standard export's attention) are fused at load and compute the same (UNet, VAE decoder)", async () => {
  const ck = loadCheckpoint(fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors'));
  const cfg = deriveSd15Config(ck.weights, { textEncoder: { num_attention_heads: 2 } });
  for (const [folder, build] of COMPONENT_BUILDERS.filter(([f]) => f in FEEDS)) {
    const out = join(dir, folder);
    const graph = build(ck.weights, cfg);
    const softmaxes = graph.nodes.filter((n) => n.opType === 'Softmax').length;
    assert.ok(softmaxes > 0 && !graph.nodes.some((n) => n.opType === 'MultiHeadAttention'), `${folder}: built as the export is`);
    mkdirSync(out);
    writeOnnxModel(graph, out);
    const model = join(out, 'model.onnx');
    const exported = await ort.InferenceSession.create(model);
    const plain = Object.values(await exported.run(FEEDS[folder]!()))[0]!.data as Float32Array;
    await exported.release();
    // Every attention fused, its weights left in the folder's external data file.
    assert.equal(fuseAttention(await EditableModel.fromFile(model)).length, softmaxes, `${folder}: attentions fused at load`);
    const graphs = await unetGraphs(model, { attention: 'fused', layers: 'exported', sharedPrefix: false, precision: 'float32' });
    assert.ok('whole' in graphs);
    const fused = graphs.whole;
    // No weight is pulled inline: the rewritten model is no larger than the exported graph file.
    assert.ok(fused.source instanceof Uint8Array && fused.source.length <= statSync(model).size, `${(fused.source as Uint8Array).length} bytes`);
    const session = await openSession(fused.source, { provider: 'cpu', externalDataDir: fused.externalDataDir! });
    const fusedOut = Object.values((await session.run(FEEDS[folder]!())).outputs)[0]!.data as Float32Array;
    await session.release();
    let max = 0;
    for (let j = 0; j < plain.length; j++) max = Math.max(max, Math.abs(plain[j]! - fusedOut[j]!));
    assert.ok(max < 1e-4, `${folder}: fused at load differs from the built graph by ${max}`);
  }
});
