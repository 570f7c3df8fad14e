// Half-precision arithmetic for GPU providers, on the tiny fixture's UNet and VAE decoder. The graph's
// structure is checked everywhere; its numbers on WebGPU (Mesa's software Vulkan in CI, a GPU where
// there is one), against the float32 graph on the CPU.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference-cases.ts';
import { seeded } from '../../../test/small-models.ts';
import { webgpuUnavailable } from '../../../test/webgpu.ts';
import { EXTERNAL_DATA_FOLDER, ort } from '../ort.ts';
import { DataType } from '../proto/onnx-schema.ts';
import { EditableModel } from './editable-model.ts';
import { computeInHalf, precisionFor } from './half-precision.ts';

const UNET = () => join(TINY_SD15(), 'unet', 'model.onnx');
const VAE = () => join(TINY_SD15(), 'vae_decoder', 'model.onnx');

test('the half graph computes from the latents and text in float16, keeps the timestep embedding, weights, inputs and outputs float32', async () => {
  const m = await EditableModel.open(UNET());
  const inputs = JSON.stringify(m.graph.input);
  const weights = m.graph.initializer.map((t) => [t.name, t.dataType]);
  const converted = new Set(computeInHalf(m));
  const byName = new Map(m.graph.node.map((n) => [n.name, n]));
  assert.equal(JSON.stringify(m.graph.input), inputs);
  assert.deepEqual(m.graph.output.map((o) => o.name), ['out_sample']);
  assert.deepEqual(m.producers().get('out_sample')?.opType, 'Cast', 'the output is cast back to float32');
  // Weights stay as they are (float32, in the model's file); Casts of them are folded at load.
  assert.deepEqual(m.graph.initializer.map((t) => [t.name, t.dataType]), weights);
  assert.equal(m.danglingValue(), undefined);

  const convs = m.graph.node.filter((n) => n.opType === 'Conv');
  assert.ok(convs.length > 20 && convs.every((n) => converted.has(n.name)), 'every convolution is half');
  for (const n of [...convs, ...m.graph.node.filter((n) => n.opType === 'MatMul' && converted.has(n.name))]) {
    for (const w of n.input.slice(1).filter((i) => m.initializers.has(i))) assert.fail(`${n.name} reads the float32 weight ${w} directly`);
  }
  // sin/cos(t * freq) and the time MLP stay float32: float16's spacing near t = 999 is 0.5.
  const trig = m.graph.node.filter((n) => n.opType === 'Sin' || n.opType === 'Cos');
  assert.equal(trig.length, 2);
  for (const n of trig) assert.ok(!converted.has(n.name) && !n.input[0]!.endsWith('.float16'), `${n.name} stays float32`);
  const timeMlp = m.graph.node.filter((n) => n.name.startsWith('/time_embedding/'));
  assert.ok(timeMlp.length > 0 && timeMlp.every((n) => !converted.has(n.name)));
  // The attention's baddbmm zeros (as large as the scores) are made in float16, not cast per run.
  const zeros = m.graph.node.filter((n) => n.opType === 'ConstantOfShape' && converted.has(n.name));
  assert.ok(zeros.length > 0);
  for (const z of zeros) assert.equal(z.attribute.find((a) => a.name === 'value')!.t!.dataType, DataType.FLOAT16);
  assert.ok(byName.size === m.graph.node.length, 'node names stay unique');
});

test('graphs without float32 data inputs are left alone; an operator of an unknown domain is named', async () => {
  const encoder = await EditableModel.open(join(TINY_SD15(), 'text_encoder', 'model.onnx'));
  assert.deepEqual(computeInHalf(encoder), [], 'the text encoder reads token ids only');

  const halfExport = await EditableModel.open(VAE());
  halfExport.graph.input.find((i) => i.name === halfExport.firstInput)!.type!.tensorType!.elemType = DataType.FLOAT16;
  assert.deepEqual(computeInHalf(halfExport), []);

  const custom = await EditableModel.open(VAE());
  const first = custom.graph.node.find((n) => n.input.includes(custom.firstInput))!;
  first.domain = 'com.example';
  assert.throws(() => computeInHalf(custom), new RegExp(`${first.name.replace(/[/.]/g, '\\$&')}: operator com\\.example\\.${first.opType} has no known float16 form`));
});

test('float16 by default on CUDA, DirectML and WebGPU; float32 on the CPU and CoreML, or as chosen', () => {
  assert.equal(precisionFor('auto', 'cuda'), 'float16');
  assert.equal(precisionFor('auto', 'dml'), 'float16');
  assert.equal(precisionFor('auto', 'webgpu'), 'float16');
  assert.equal(precisionFor('auto', 'cpu'), 'float32');
  assert.equal(precisionFor('auto', 'coreml'), 'float32');
  assert.equal(precisionFor('float32', 'cuda'), 'float32');
  assert.equal(precisionFor('float16', 'cpu'), 'float16');
});

test('on WebGPU the half UNet and VAE decoder give the float32 graphs\' outputs within float16 rounding', async (t) => {
  const reason = await webgpuUnavailable();
  if (reason) {
    console.log(`[half-precision] skipped: ${reason}`);
    return t.skip(reason);
  }
  const cases = [
    {
      path: UNET(),
      feeds: () => ({
        sample: new ort.Tensor('float32', seeded(256, 1, 2), [1, 4, 8, 8]),
        timestep: new ort.Tensor('int64', BigInt64Array.from([999n]), [1]),
        encoder_hidden_states: new ort.Tensor('float32', seeded(77 * 32, 2, 2), [1, 77, 32]),
      }),
      // Measured 2.8e-2 on outputs up to 2.7: the fixture's lowest UNet level is 1x1, so its group
      // norms see 2 values each and magnify any rounding; a mistake in the rewrite is off by O(1).
      tolerance: 0.1,
    },
    { path: VAE(), feeds: () => ({ latent_sample: new ort.Tensor('float32', seeded(256, 3, 10), [1, 4, 8, 8]) }), tolerance: 0.2 },
  ];
  for (const c of cases) {
    const plain = await ort.InferenceSession.create(c.path);
    const m = await EditableModel.open(c.path);
    computeInHalf(m);
    const { source, externalDataDir } = m.toSource();
    const half = await ort.InferenceSession.create(source, { executionProviders: ['webgpu'], ...(externalDataDir ? { extra: { [EXTERNAL_DATA_FOLDER]: externalDataDir } } : {}) });
    try {
      assert.deepEqual(half.inputNames, plain.inputNames);
      const expected = (await plain.run(c.feeds()))[plain.outputNames[0]!]!;
      const got = (await half.run(c.feeds()))[half.outputNames[0]!]!;
      assert.equal(got.type, 'float32');
      assert.deepEqual(got.dims, expected.dims);
      const d = maxAbsDiff(got.data as Float32Array, expected.data as Float32Array);
      assert.ok(d > 0 && d <= c.tolerance, `${c.path}: half output off by ${d}`);
    } finally {
      await Promise.all([plain.release(), half.release()]);
    }
  }
});
