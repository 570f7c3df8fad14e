// The Winograd form against the direct convolutions it replaces: single convs built here (with and
// without bias, batch 2, ineligible shapes left alone) and the tiny fixture's whole VAE decoder.
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
import { vaeSource } from './vae-convolutions.ts';
import { EditableModel } from './editable-model.ts';
import { rewriteWinograd, type WinogradOptions } from './winograd-convs.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-winograd-'));
after(() => rmSync(dir, { recursive: true, force: true }));


/** A model of one Conv; returns its file path. */
function convModel(name: string, c: number, k: number, attributes: Record<string, AttrValue>, bias: boolean, kernel = 3): string {
  const g = new GraphBuilder(name);
  const x = g.input('x', 'float32', ['n', c, 'h', 'w']);
  const inputs = [x, g.initializer('conv.weight', 'float32', [k, c / ((attributes.group as number) ?? 1), kernel, kernel], floatData(seeded((k * c * kernel * kernel) / ((attributes.group as number) ?? 1), 7, 0.2)))];
  if (bias) inputs.push(g.initializer('conv.bias', 'float32', [k], floatData(seeded(k, 8))));
  g.output(g.scope('conv', () => g.op('Conv', inputs, attributes)), 'y', 'float32', ['n', k, 'h2', 'w2']);
  const path = join(dir, `${name}.onnx`);
  writeOnnxModel(g.build(), dir, `${name}.onnx`);
  return path;
}


/** The model at `path` with its eligible convs in Winograd form: its bytes and the convs rewritten. */
async function rewrite(path: string, options: WinogradOptions): Promise<{ bytes: Uint8Array; rewritten: string[] }> {
  const m = await EditableModel.fromFile(path);
  const rewritten = rewriteWinograd(m, options);
  return { bytes: m.encode(), rewritten };
}

const PAD1 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };

for (const bias of [true, false]) {
  test(`a 3x3 conv ${bias ? 'with' : 'without'} bias gives the direct result (batch 2, non-square)`, async () => {
    const path = convModel(`conv-${bias}`, 16, 24, PAD1, bias);
    const rewritten = await rewrite(path, { minInputChannels: 16 });
    assert.deepEqual(rewritten.rewritten, ['/conv/Conv']);
    const dims = [2, 16, 12, 20];
    const x = seeded(dims.reduce((a, b) => a * b), 3, 4);
    const direct = await runOnce(path, x, dims);
    const fast = await runOnce(rewritten.bytes, x, dims);
    assert.deepEqual(fast.dims, direct.dims);
    const d = maxAbsDiff(fast.data, direct.data);
    assert.ok(d < 1e-4, `max difference ${d}`);
  });
}

test('convs that are not 3x3/stride 1/pad 1/group 1, or have fewer channels than asked, stay as they are', async () => {
  const cases: Array<[string, Record<string, AttrValue>, number]> = [
    ['stride2', { ...PAD1, strides: [2, 2] }, 3],
    ['pad0', { kernel_shape: [3, 3] }, 3],
    ['grouped', { ...PAD1, group: 2 }, 3],
    ['dilated', { ...PAD1, dilations: [2, 2] }, 3],
    ['kernel1', { kernel_shape: [1, 1] }, 1],
  ];
  for (const [name, attributes, kernel] of cases) {
    const path = convModel(name, 16, 16, attributes, true, kernel);
    const { rewritten } = await rewrite(path, { minInputChannels: 1 });
    assert.deepEqual(rewritten, [], name);
  }
  const { rewritten } = await rewrite(convModel('few', 16, 16, PAD1, true), { minInputChannels: 17 });
  assert.deepEqual(rewritten, []);
});

test('the tiny VAE decoder with every eligible conv in Winograd form decodes as the direct one', async () => {
  const path = join(TINY_SD15(), 'vae_decoder', 'model.onnx');
  const { bytes, rewritten } = await rewrite(path, { minInputChannels: 1 });
  assert.ok(rewritten.length >= 10, `rewrote ${rewritten.length} convs`);
  const dims = [1, 4, 8, 8];
  const latents = seeded(4 * 8 * 8, 11, 6);
  const direct = await runOnce(path, latents, dims);
  const fast = await runOnce(bytes, latents, dims);
  const d = maxAbsDiff(fast.data, direct.data);
  assert.ok(d < 1e-4, `pixels (in [-1, 1]) differ by ${d}`);
});

test('the VAE source in fast form: rewritten when a conv has 512 input channels, the original in direct form', async () => {
  const wide = convModel('wide', 512, 8, PAD1, true);
  const chosen = await vaeSource(wide, 'fast');
  assert.equal(chosen.form, 'fast');
  assert.ok(chosen.source instanceof Uint8Array);
  // The weights stay in the model's file (the graph transposes them; onnxruntime folds that at load).
  assert.equal(chosen.externalDataDir, dir);
  const dims = [1, 512, 8, 8];
  const x = seeded(512 * 64, 5, 2);
  assert.ok(maxAbsDiff((await runOnce(chosen.source, x, dims, chosen.externalDataDir)).data, (await runOnce(wide, x, dims)).data) < 1e-4);
  // 16 channels and no upsampling: nothing to rewrite, so the file itself is used.
  const narrow = convModel('narrow', 16, 8, PAD1, true);
  assert.deepEqual(await vaeSource(narrow, 'fast'), { source: narrow, form: 'direct', precision: 'float32' });
  assert.deepEqual(await vaeSource(wide, 'direct'), { source: wide, form: 'direct', precision: 'float32' });
});

test('a size limit leaves the convs after a x2 Resize direct: their transformed input is 4x larger', async () => {
  const g = new GraphBuilder('resized');
  const x = g.input('x', 'float32', [1, 16, 'h', 'w']);
  const conv = (name: string, input: string) =>
    g.scope(name, () => g.op('Conv', [input, g.initializer(`${name}.weight`, 'float32', [16, 16, 3, 3], floatData(seeded(16 * 16 * 9, 4, 0.2)))], PAD1));
  const small = conv('small', x);
  const up = g.op('Resize', [small, '', g.constFloat([1, 1, 2, 2])], { mode: 'nearest' });
  g.output(conv('large', up), 'y', 'float32', [1, 16, 'h2', 'w2']);
  writeOnnxModel(g.build(), dir, 'resized.onnx');
  const path = join(dir, 'resized.onnx');
  // Transformed input at the 64x64 reference: 36 x 16 channels x 16² tiles x 4 bytes = 576 KiB, 4x after the Resize.
  const limited = await rewrite(path, { minInputChannels: 16, maxTransformBytes: 1 << 20 });
  assert.deepEqual(limited.rewritten, ['/small/Conv']);
  assert.deepEqual((await rewrite(path, { minInputChannels: 16 })).rewritten, ['/small/Conv', '/large/Conv']);
  const dims = [1, 16, 8, 12];
  const input = seeded(16 * 8 * 12, 9, 3);
  assert.ok(maxAbsDiff((await runOnce(limited.bytes, input, dims)).data, (await runOnce(path, input, dims)).data) < 1e-4);
});

test('a model that is not ONNX is refused with a message', () => {
  assert.throws(() => new EditableModel(new Uint8Array([1, 2, 3]), undefined), /ONNX|graph|invalid|wire/i);
});
