// The UNet split at the text: the tiny fixture's exported UNet as prefix + rest against the whole
// graph (bit-identical, for two texts from one prefix run), with fused attention and for a
// LoRA-patched UNet in memory, and a graph with nothing worth sharing.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { floatData, seeded } from '../../../test/small-models.ts';
import { GraphBuilder } from '../../graph/graph-builder.ts';
import { writeOnnxModel } from '../../graph/write-onnx.ts';
import { applyLora } from '../../lora/apply-lora.ts';
import { readLoraFile } from '../../lora/lora-file.ts';
import { fusedExternalData } from '../../lora/patched-session.ts';
import { TINY_LORA, TINY_UNET } from '../../lora/test/helpers.ts';
import { signatureOf, type OnnxValueInfo } from '../inspect.ts';
import { EXTERNAL_DATA_FOLDER, ort } from '../ort.ts';
import { OnnxModel } from '../proto/onnx-model.ts';
import { EditableModel } from './editable-model.ts';
import { textFreeCut } from './text-free-prefix.ts';
import { TEXT_INPUT, unetGraphs, type GraphSource, type UnetForm } from './unet-graph.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-prefix-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const UNET = () => join(TINY_SD15(), 'unet', 'model.onnx');
const SHARED: UnetForm = { attention: 'exported', layers: 'exported', sharedPrefix: true, precision: 'float32' };

async function open(g: GraphSource, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  const extra = g.externalDataDir ? { extra: { [EXTERNAL_DATA_FOLDER]: g.externalDataDir } } : {};
  return ort.InferenceSession.create(g.source as Uint8Array, { ...options, ...extra });
}

const outputsOf = (prefix: ort.InferenceSession) => signatureOf(prefix).outputs;
const byName = (values: OnnxValueInfo[]) => [...values].sort((a, b) => a.name.localeCompare(b.name));

async function contextWidth(): Promise<number> {
  const session = await ort.InferenceSession.create(UNET());
  const meta = session.inputMetadata.find((i) => i.name === TEXT_INPUT) as { shape?: Array<number | string> };
  await session.release();
  return Number(meta.shape?.[2]);
}

/** The whole graph's prediction for each text, and the split graphs' from one prefix run. */
async function predictBoth(whole: ort.InferenceSession, prefix: ort.InferenceSession, rest: ort.InferenceSession, width: number) {
  const sample = new ort.Tensor('float32', seeded(2 * 4 * 8 * 16, 3, 2), [2, 4, 8, 16]);
  const timestep = new ort.Tensor('int64', BigInt64Array.of(759n), [1]);
  const texts = [5, 6].map((seed) => new ort.Tensor('float32', seeded(2 * 77 * width, seed, 2), [2, 77, width]));
  const shared = await prefix.run({ sample, timestep });
  const out: Array<[Float32Array, Float32Array]> = [];
  for (const text of texts) {
    const a = Object.values(await whole.run({ sample, timestep, [TEXT_INPUT]: text }))[0]!.data as Float32Array;
    const b = Object.values(await rest.run({ ...shared, [TEXT_INPUT]: text }))[0]!.data as Float32Array;
    out.push([a, b]);
  }
  return out;
}

test('the exported tiny UNet as text-free prefix + rest predicts bit for bit as the whole, two texts from one prefix run', async () => {
  const m = await EditableModel.fromFile(UNET());
  const cut = textFreeCut(m, TEXT_INPUT)!;
  assert.ok(cut.includes('/conv_in/Conv_output_0'), 'conv_in is shared');
  const graphs = await unetGraphs(UNET(), SHARED);
  assert.ok('prefix' in graphs);
  assert.deepEqual(graphs.form, SHARED);
  const [whole, prefix] = [await ort.InferenceSession.create(UNET()), await open(graphs.prefix)];
  const rest = await open(graphs.suffix(outputsOf(prefix)));
  try {
    assert.deepEqual([...prefix.inputNames].sort(), ['sample', 'timestep']);
    assert.deepEqual([...rest.inputNames].sort(), [TEXT_INPUT, ...cut].sort());
    assert.deepEqual([...prefix.outputNames], cut);
    // The rest declares its inputs with the prefix's types and inferred shapes, not as scalars.
    const declared = signatureOf(rest).inputs.filter((i) => i.name !== TEXT_INPUT);
    assert.deepEqual(byName(declared), byName(outputsOf(prefix)));
    // Float activations and int64 shapes cross.
    assert.ok(declared.every((i) => i.type === 'float32' || i.type === 'int64'), declared.map((i) => `${i.name}: ${i.type}`).join(', '));
    for (const [a, b] of await predictBoth(whole, prefix, rest, await contextWidth())) assert.deepEqual(b, a);
  } finally {
    await Promise.all([whole, prefix, rest].map((s) => s.release()));
  }
});

test('with fused attention and a LoRA-patched UNet handed over in memory, the split still predicts as its whole graph', async () => {
  const { unet: patched } = await applyLora(await readLoraFile(TINY_LORA()), { unet: await OnnxModel.load(TINY_UNET()) }, 0.75);
  const options = { externalData: fusedExternalData(patched!) };
  const fusedWhole = await unetGraphs(patched!.modelBytes, { attention: 'fused', layers: 'exported', sharedPrefix: false, precision: 'float32' });
  const fusedSplit = await unetGraphs(patched!.modelBytes, { attention: 'fused', layers: 'exported', sharedPrefix: true, precision: 'float32' });
  assert.ok('whole' in fusedWhole && 'prefix' in fusedSplit);
  assert.equal(fusedSplit.form.attention, 'fused');
  assert.equal(fusedSplit.prefix.externalDataDir, undefined);
  const [whole, prefix] = [await open(fusedWhole.whole, options), await open(fusedSplit.prefix, options)];
  const rest = await open(fusedSplit.suffix(outputsOf(prefix)), options);
  try {
    for (const [a, b] of await predictBoth(whole, prefix, rest, await contextWidth())) assert.deepEqual(b, a);
  } finally {
    await Promise.all([whole, prefix, rest].map((s) => s.release()));
  }
});

test('a graph whose weighty work all reads the text has no prefix worth a second session: one graph', async () => {
  const g = new GraphBuilder('text-first');
  const sample = g.input('sample', 'float32', [1, 4]);
  const text = g.input(TEXT_INPUT, 'float32', [1, 4]);
  const projected = g.op('MatMul', [text, g.initializer('w', 'float32', [4, 4], floatData(seeded(16, 1)))]);
  g.output(g.op('Add', [g.op('Relu', [sample]), projected]), 'out_sample', 'float32', [1, 4]);
  writeOnnxModel(g.build(), dir, 'text-first.onnx');
  const path = join(dir, 'text-first.onnx');
  assert.equal(textFreeCut(await EditableModel.fromFile(path), TEXT_INPUT), undefined);
  const graphs = await unetGraphs(path, SHARED);
  assert.ok('whole' in graphs);
  assert.equal(graphs.whole.source, path, 'the model as given');
  assert.equal(graphs.form.sharedPrefix, false);
});
