import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { layoutBlob, sliceOf, sliceOfFiles } from '../onnx/proto/external-data.ts';
import { fromHalfBits as halfToFloat, toHalfBits as floatToHalf } from '../util/float16.ts';
import { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { DataType } from '../onnx/proto/onnx-schema.ts';
import { applyLora } from './apply-lora.ts';
import { fuseLora, type PatchedModel } from './fuse-lora.ts';
import { findGraphTargets } from './graph-targets.ts';
import { readLoraFile } from './lora-file.ts';
import { planLora } from './plan.ts';
import { toFloat32 } from './safetensors.ts';
import { fixtureLoraTensors, LORA_CASES, maxAbsDiff, replayUnetStep, tempDir, TINY_LORA, TINY_UNET } from './test/helpers.ts';
import { createPatchedSession } from './patched-session.ts';

interface Target {
  kohya_prefix: string;
  onnx_node: string;
  op_type: string;
  weight_initializer: string;
  weight_shape: number[];
}
const targetsJson = () =>
  (JSON.parse(readFileSync(fixturePath('tiny-sd15/lora/lora_targets.json'), 'utf8')) as { targets: Target[] }).targets;

/** The fused weight as the fixture's rule states it, in float64, from the raw file tensors. */
let loraTensors: ReturnType<typeof fixtureLoraTensors> | undefined;

function expectedFused(target: Target, weight: ArrayLike<number>, scale: number): Float64Array {
  const tensors = (loraTensors ??= fixtureLoraTensors());
  const down = toFloat32('down', tensors.get(`${target.kohya_prefix}.lora_down.weight`)!);
  const up = toFloat32('up', tensors.get(`${target.kohya_prefix}.lora_up.weight`)!);
  const alpha = toFloat32('alpha', tensors.get(`${target.kohya_prefix}.alpha`)!)[0]!;
  const rank = tensors.get(`${target.kohya_prefix}.lora_down.weight`)!.shape[0]!;
  const transposed = target.op_type === 'MatMul';
  const out = transposed ? target.weight_shape[1]! : target.weight_shape[0]!;
  const inner = up.length / out === rank ? down.length / rank : 0;
  const result = Float64Array.from(weight);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inner; i++) {
      let sum = 0;
      for (let r = 0; r < rank; r++) sum += up[o * rank + r]! * down[r * inner + i]!;
      result[transposed ? i * out + o : o * inner + i]! += scale * (alpha / rank) * sum;
    }
  }
  return result;
}

const parsed = new WeakMap<PatchedModel, OnnxModel>();

function fusedBytes(patched: PatchedModel, name: string): Uint8Array {
  let model = parsed.get(patched);
  if (!model) parsed.set(patched, (model = new OnnxModel(patched.modelBytes, undefined)));
  const info = model.initializer(name)!;
  assert.ok(info.external);
  return sliceOfFiles(patched.fusedWeights, { ...info.external, name, dataType: info.dataType, dims: info.dims });
}

const asFloat32 = (b: Uint8Array) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const asUint16 = (b: Uint8Array) => new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

test('every target of lora_targets.json is found through its node, with its weight and layout', async () => {
  const model = await OnnxModel.load(TINY_UNET());
  const plan = planLora(await readLoraFile(TINY_LORA()), 'unet', findGraphTargets(model), 'SD 1.5 UNet');
  assert.equal(plan.layers.length, 277);
  assert.deepEqual(plan.unmatchedKeys, []);
  const byNode = new Map(plan.layers.map((p) => [p.target.nodeName, p]));
  for (const t of targetsJson()) {
    const planned = byNode.get(t.onnx_node);
    assert.ok(planned, t.onnx_node);
    assert.equal(`lora_unet_${planned.layer.flatName}`, t.kohya_prefix);
    assert.equal(planned.target.initializer, t.weight_initializer);
    assert.equal(planned.target.opType, t.op_type);
    assert.deepEqual(planned.target.dims, t.weight_shape);
    assert.equal(planned.target.layout, t.op_type === 'MatMul' ? 'inOut' : 'outIn');
  }
});

test('fused float32 weights equal a float64 hand computation of W + s·(alpha/rank)·up·down', async () => {
  const model = await OnnxModel.load(TINY_UNET());
  const { unet, report } = await applyLora(await readLoraFile(TINY_LORA()), { unet: model }, 0.75);
  assert.equal(report.applied.unet, 277);
  let worst = 0;
  for (const t of targetsJson()) {
    const original = asFloat32(model.readInitializer(t.weight_initializer));
    const expected = expectedFused(t, original, 0.75);
    const got = asFloat32(fusedBytes(unet!, t.weight_initializer));
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  }
  assert.ok(worst < 1e-6, `max |fused - float64| = ${worst}`);
});

test('float16 weights (from external data on disk) are fused in float32 and rounded once', async (t) => {
  // An fp16 variant of the tiny UNet's LoRA targets, stored the way >2 GB exports store weights.
  const base = await OnnxModel.load(TINY_UNET());
  const chosen = targetsJson().slice(0, 40);
  const layout = layoutBlob(
    'model.onnx_data',
    chosen.map((c) => ({ name: c.weight_initializer, dataType: DataType.FLOAT16, dims: c.weight_shape })),
  );
  const data = Buffer.alloc(layout.size);
  for (const c of chosen) {
    const halves = Uint16Array.from(asFloat32(base.readInitializer(c.weight_initializer)), floatToHalf);
    sliceOf(data, layout.refs.get(c.weight_initializer)!).set(new Uint8Array(halves.buffer));
  }
  const dir = tempDir(t);
  writeFileSync(join(dir, 'model.onnx'), base.withExternalInitializers(layout.refs));
  writeFileSync(join(dir, 'model.onnx_data'), data);
  const model = await OnnxModel.load(join(dir, 'model.onnx'));

  const plan = planLora(await readLoraFile(TINY_LORA()), 'unet', findGraphTargets(model), 'SD 1.5 UNet');
  const fp16Plan = { ...plan, layers: plan.layers.filter((p) => p.target.dataType === DataType.FLOAT16) };
  assert.equal(fp16Plan.layers.length, 40);
  const patched = await fuseLora(model, fp16Plan, 1);
  let beyondOneUlp = 0;
  let changed = 0;
  for (const c of chosen) {
    const original = Array.from(asUint16(model.readInitializer(c.weight_initializer)), halfToFloat);
    const expected = expectedFused(c, original, 1);
    const got = asUint16(fusedBytes(patched, c.weight_initializer));
    for (let i = 0; i < got.length; i++) {
      const want = floatToHalf(expected[i]!);
      if (Math.abs(got[i]! - want) > 1) beyondOneUlp++;
      if (got[i] !== floatToHalf(original[i]!)) changed++;
    }
  }
  assert.equal(beyondOneUlp, 0);
  assert.ok(changed > 1000, `only ${changed} weights changed`);
});

test('scale 0 leaves every weight bit for bit as it was', async () => {
  const model = await OnnxModel.load(TINY_UNET());
  const lora = await readLoraFile(TINY_LORA());
  const patched = await fuseLora(model, planLora(lora, 'unet', findGraphTargets(model), 'SD 1.5 UNet'), 0);
  for (const t of targetsJson()) {
    assert.ok(Buffer.from(fusedBytes(patched, t.weight_initializer)).equals(model.readInitializer(t.weight_initializer)));
  }
  const application = await applyLora(lora, { unet: model }, 0);
  assert.equal(application.unet, undefined, 'scale 0 uses the base model itself');
  assert.equal(application.report.applied.unet, 0);
});

test('fused weights split over several in-memory files still make one working session', async () => {
  const model = await OnnxModel.load(TINY_UNET());
  const plan = planLora(await readLoraFile(TINY_LORA()), 'unet', findGraphTargets(model), 'SD 1.5 UNet');
  const patched = await fuseLora(model, plan, 1, undefined, 1 << 20);
  assert.ok(patched.fusedWeights.length >= 10, `${patched.fusedWeights.length} files`);
  assert.ok(patched.fusedWeights.every((f) => f.data.length <= 1 << 20));
  const session = await createPatchedSession(patched, { graphOptimizationLevel: 'disabled' });
  const { out, expected } = await replayUnetStep(session, LORA_CASES[0].name, 0);
  assert.ok(maxAbsDiff(out, expected) < 2e-5);
  await session.release();
});
