// Upsample convs as 2x2 phase convs against the Resize + 3x3 conv they replace: single pairs built
// here (bias or not, batch 2, non-square, both Resize coordinate modes torch exports), pairs that
// must stay as they are, and the tiny fixture's whole VAE decoder.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TINY_SD15 } from '../../../test/fixtures.ts';
import { maxAbsDiff } from '../../../test/reference-cases.ts';
import { floatData, runOnce, seeded } from '../../../test/small-models.ts';
import { GraphBuilder, type AttrValue } from '../../graph/graph-builder.ts';
import { writeOnnxModel } from '../../graph/write-onnx.ts';
import { EditableModel } from './editable-model.ts';
import { rewriteUpsampleConvs } from './subpixel-upsample.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-subpixel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TORCH_RESIZE = { coordinate_transformation_mode: 'asymmetric', mode: 'nearest', nearest_mode: 'floor' };
const PAD1 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };

interface PairOptions {
  resize?: Record<string, AttrValue>;
  scales?: number[];
  conv?: Record<string, AttrValue>;
  bias?: boolean;
  /** Also read the upsampled map elsewhere (then it must stay). */
  sharedUpsample?: boolean;
}

/** Resize(x) -> Conv, as a model file; returns its path. */
function pairModel(name: string, c: number, k: number, o: PairOptions = {}): string {
  const g = new GraphBuilder(name);
  const x = g.input('x', 'float32', ['n', c, 'h', 'w']);
  const up = g.scope('upsample', () => g.op('Resize', [x, '', g.constFloat(o.scales ?? [1, 1, 2, 2])], o.resize ?? TORCH_RESIZE));
  const inputs = [up, g.initializer('conv.weight', 'float32', [k, c, 3, 3], floatData(seeded(k * c * 9, 7, 0.3)))];
  if (o.bias ?? true) inputs.push(g.initializer('conv.bias', 'float32', [k], floatData(seeded(k, 8))));
  const y = g.scope('conv', () => g.op('Conv', inputs, o.conv ?? PAD1));
  g.output(o.sharedUpsample ? g.op('Add', [y, g.op('ReduceMean', [up], { axes: [1], keepdims: 1 })]) : y, 'y', 'float32', ['n', k, 'h2', 'w2']);
  writeOnnxModel(g.build(), dir, `${name}.onnx`);
  return join(dir, `${name}.onnx`);
}

async function rewrite(path: string, minInputChannels = 1): Promise<{ bytes: Uint8Array; rewritten: string[] }> {
  const m = await EditableModel.fromFile(path);
  const rewritten = rewriteUpsampleConvs(m, minInputChannels);
  return { bytes: m.encode(), rewritten };
}


const cases: Array<[string, PairOptions]> = [
  ['with bias, torch export', {}],
  ['without bias', { bias: false }],
  ['half_pixel coordinates', { resize: { mode: 'nearest', coordinate_transformation_mode: 'half_pixel' } }],
  ['asymmetric with round_prefer_floor', { resize: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric' } }],
];
for (const [label, options] of cases) {
  test(`nearest x2 + 3x3 conv ${label}: four phase convs give the direct result (batch 2, non-square)`, async () => {
    const path = pairModel(label.replaceAll(/\W+/g, '-'), 6, 10, options);
    const { bytes, rewritten } = await rewrite(path);
    assert.deepEqual(rewritten, ['/conv/Conv']);
    const dims = [2, 6, 5, 7];
    const x = seeded(dims.reduce((a, b) => a * b), 3, 4);
    const direct = await runOnce(path, x, dims);
    const phases = await runOnce(bytes, x, dims);
    assert.deepEqual(phases.dims, [2, 10, 10, 14]);
    const d = maxAbsDiff(phases.data, direct.data);
    assert.ok(d < 1e-5, `max difference ${d}`);
  });
}

test('pairs whose maths differ stay as they are: other scales or rounding, a strided conv, a map read elsewhere', async () => {
  const kept: Array<[string, PairOptions]> = [
    ['x3', { scales: [1, 1, 3, 3] }],
    ['ceil', { resize: { ...TORCH_RESIZE, nearest_mode: 'ceil' } }],
    ['prefer-ceil', { resize: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' } }],
    ['linear', { resize: { ...TORCH_RESIZE, mode: 'linear' } }],
    ['stride2', { conv: { ...PAD1, strides: [2, 2] } }],
    ['pad0', { conv: { kernel_shape: [3, 3] } }],
    ['shared', { sharedUpsample: true }],
    ['few channels', {}],
  ];
  for (const [name, options] of kept) {
    const path = pairModel(name.replace(' ', '-'), 4, 4, options);
    const { bytes, rewritten } = await rewrite(path, name === 'few channels' ? 5 : 1);
    assert.deepEqual(rewritten, [], name);
    // Still the same model, computing the same thing.
    const dims = [1, 4, 4, 6];
    const x = seeded(4 * 24, 5);
    assert.deepEqual((await runOnce(bytes, x, dims)).data, (await runOnce(path, x, dims)).data, name);
  }
});

test('the tiny VAE decoder with its upsample convs as phases decodes as the direct one', async () => {
  const path = join(TINY_SD15(), 'vae_decoder', 'model.onnx');
  const { bytes, rewritten } = await rewrite(path);
  assert.deepEqual(rewritten, [0, 1, 2].map((i) => `/decoder/up_blocks.${i}/upsamplers.0/conv/Conv`));
  const dims = [1, 4, 8, 8];
  const latents = seeded(4 * 8 * 8, 11, 6);
  const d = maxAbsDiff((await runOnce(bytes, latents, dims)).data, (await runOnce(path, latents, dims)).data);
  assert.ok(d < 1e-5, `pixels (in [-1, 1]) differ by ${d}`);
});
