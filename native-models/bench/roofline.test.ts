// The roofline's arithmetic is counted from onnxruntime's real profiles: a graph of known FLOPs
// (run with the CPU's full optimisation, so its convolutions run in onnxruntime's blocked layout
// and a transposed product becomes a FusedMatMul), and the tiny pipeline's two generations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GraphBuilder } from '../src/graph/graph-builder.ts';
import { writeOnnxModel } from '../src/graph/write-onnx.ts';
import { ort } from '../src/onnx/ort.ts';
import { openSession } from '../src/onnx/session.ts';
import { TINY_SD15 } from '../test/fixtures.ts';
import { operatorFlops, profileGeneration, readSessionProfile } from './roofline.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-roofline-test-'));
after(() => process.env.KEEP || rmSync(dir, { recursive: true, force: true }));

const weights = (n: number) => ({ kind: 'bytes' as const, bytes: new Uint8Array(new Float32Array(n).map((_, i) => Math.sin(i)).buffer) });

test('the FLOPs counted from a profile are those of the graph: convolutions (grouped too) and matrix products (transposed too)', async () => {
  const [c, k, side, tokens, width] = [32, 48, 16, 64, 96];
  const g = new GraphBuilder('known_flops');
  const x = g.input('x', 'float32', [1, c, side, side]);
  const conv = g.op('Conv', [x, g.initializer('w3', 'float32', [k, c, 3, 3], weights(k * c * 9))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const depthwise = g.op('Conv', [conv, g.initializer('wd', 'float32', [k, 1, 3, 3], weights(k * 9))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: k });
  g.output(depthwise, 'y', 'float32', [1, k, side, side]);
  const t = g.input('t', 'float32', [tokens, width]);
  const product = g.op('MatMul', [t, g.initializer('wm', 'float32', [width, c], weights(width * c))]);
  // t x tᵀ: onnxruntime folds the Transpose into a FusedMatMul with transB.
  const gram = g.op('MatMul', [product, g.op('Transpose', [product], { perm: [1, 0] })]);
  g.output(gram, 'gram', 'float32', [tokens, tokens]);
  writeOnnxModel(g.build(), dir, 'known.onnx');

  const profiles = join(dir, 'known-profiles');
  const session = await openSession(join(dir, 'known.onnx'), { provider: 'cpu', label: 'known flops', profileDir: profiles });
  const feeds = { x: new ort.Tensor('float32', new Float32Array(c * side * side).fill(0.5), [1, c, side, side]), t: new ort.Tensor('float32', new Float32Array(tokens * width).fill(0.25), [tokens, width]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  await session.release();

  const expected = 2 * (k * side * side * c * 9 + k * side * side * 9 + tokens * c * width + tokens * tokens * c);
  const lastRun = readSessionProfile(profiles, 'known flops', 2);
  assert.equal(lastRun.runs, 1);
  assert.ok(Math.abs(lastRun.gflop * 1e9 - expected) < 1, `counted ${lastRun.gflop * 1e9} FLOP, the graph has ${expected}`);
  assert.ok(lastRun.computeMs > 0 && lastRun.kernelMs >= lastRun.computeMs);
  const allRuns = readSessionProfile(profiles, 'known flops', 0);
  assert.equal(allRuns.runs, 3);
  assert.ok(Math.abs(allRuns.gflop * 1e9 - 3 * expected) < 3);
});

test('operator FLOPs: attention from query and key shapes; operators without counted arithmetic are 0', () => {
  assert.equal(operatorFlops('MultiHeadAttention', [[2, 4096, 320], [2, 77, 320]], [2, 4096, 320]), 4 * 2 * 4096 * 77 * 320);
  assert.equal(operatorFlops('Gemm', [[8, 16], [32, 16]], [8, 32]), 2 * 8 * 32 * 16);
  assert.equal(operatorFlops('InstanceNormalization', [[1, 32, 4096]], [1, 32, 4096]), 0);
});

test('profiling a generation: the sessions in run order, the profiled generation\'s runs only (the texts it found cached not run)', async () => {
  let seed = 1;
  const nextRequest = () => ({ prompt: 'a photo of a cat', seed: seed++, steps: 2, guidance: 1.5, width: 64, height: 64, batchSize: 1, png: false });
  const sessions = await profileGeneration(TINY_SD15(), { provider: 'cpu', cfgBatching: 'split' }, nextRequest);
  assert.deepEqual(
    sessions.map((s) => [s.label, s.runs]),
    [
      ['text_encoder', 0],
      ['unet (prefix)', 2],
      ['unet (rest)', 4],
      ['vae_decoder', 1],
    ],
  );
  for (const s of sessions.slice(1)) assert.ok(s.gflop > 0 && s.computeMs > 0, `${s.label}: ${s.gflop} GFLOP in ${s.computeMs} ms`);
});
