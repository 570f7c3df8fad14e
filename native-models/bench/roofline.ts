// `npm run bench -- --roofline`: how close each session's kernels come to what this machine can do.
// onnxruntime's profile (SessionOptions.profileDir) records every kernel's time and the shapes it
// ran with; from the shapes we count the arithmetic of the operators that do it (convolutions,
// matrix products, fused attention: 2 FLOP per multiply-add) and set their rate beside
// onnxruntime's own best on this machine, a large 3x3 convolution. The other operators
// (normalisation, elementwise, layout) move memory rather than compute: their time is reported
// apart. Profiling is on only in a pipeline opened for it after the timed runs (so it cannot slow
// them): two warm-up generations (arenas grown, texts cached as in the app; onnxruntime's default
// memory pattern, which the plain form keeps, settles only in a session's third run: SD 1.5's
// batch-2 UNet took 11.2-11.5 s in each of the first two and 6.5-6.6 s from then on), then the
// generation measured.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GraphBuilder } from '../src/graph/graph-builder.ts';
import { writeOnnxModel } from '../src/graph/write-onnx.ts';
import { ort } from '../src/onnx/ort.ts';
import { openSession, profilePrefix } from '../src/onnx/session.ts';
import { pipelineSessions, shortLabel } from './sessions.ts';
import { StableDiffusionPipeline, type PipelineOptions } from '../src/pipeline/pipeline.ts';
import type { GenerateRequest } from '../src/pipeline/request.ts';

export interface SessionRoofline {
  label: string;
  /** Runs in the profiled generation (a guided step runs the UNet's rest twice). */
  runs: number;
  kernelMs: number;
  /** Time in the operators whose arithmetic is counted, and that arithmetic. */
  computeMs: number;
  gflop: number;
  /** Time in every other operator. */
  otherMs: number;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * The length summed over in a matrix product [.., M, K] x [.., K, N] -> [.., M, N], either side
 * possibly transposed (FusedMatMul, Gemm). onnxruntime's profile leaves out a constant B (its
 * weights, prepacked), so A alone must do then.
 */
function innerLength(a: readonly number[], b: readonly number[] | undefined, out: readonly number[]): number {
  const [m, n] = [out.at(-2) ?? 1, out.at(-1)!];
  if (b && b.length >= 2 && b.at(-1) === n && b.at(-2) !== n) return b.at(-2)!;
  if (b && b.length >= 2 && b.at(-2) === n && b.at(-1) !== n) return b.at(-1)!;
  if (a.at(-1) === m && a.length >= 2 && a.at(-2) !== m) return a.at(-2)!;
  return a.at(-1)!;
}

/** FLOP (2 per multiply-add) of one kernel from its operator and shapes; 0 for operators not counted. */
export function operatorFlops(op: string, inputs: readonly (readonly number[])[], output: readonly number[]): number {
  switch (op) {
    case 'Conv':
    case 'FusedConv': {
      // Weights [K, C/group, kh, kw]: each output value sums C/group·kh·kw products.
      const w = inputs[1];
      return w && w.length >= 3 ? 2 * size(output) * size(w.slice(1)) : 0;
    }
    case 'MatMul':
    case 'FusedMatMul':
    case 'Gemm': {
      const [a, b] = inputs;
      return a && a.length > 0 && output.length > 0 ? 2 * size(output) * innerLength(a, b, output) : 0;
    }
    case 'MultiHeadAttention': {
      // Query [B, S, D] against key [B, L, D]: scores S·L·D and their weighted sum of values S·L·D.
      const [q, k] = inputs;
      return q?.length === 3 && k?.length === 3 ? 4 * q[0]! * q[1]! * k[1]! * q[2]! : 0;
    }
    default:
      return 0;
  }
}

const dimsOf = (shape: Record<string, number[]> | undefined): number[] => (shape ? (Object.values(shape)[0] ?? []) : []);

/**
 * One session's kernels after its first `skipRuns` runs. Node events are written as each kernel
 * ends and a run's 'model_run' event after its kernels, so the kernels of later runs are the node
 * events after the skipRuns-th model_run.
 */
export function analyseProfile(label: string, events: readonly ProfileEvent[], skipRuns: number): SessionRoofline {
  const runs = events.flatMap((e, i) => (e.name === 'model_run' ? [i] : []));
  if (runs.length < skipRuns) throw new Error(`${label}: its profile has ${runs.length} runs, fewer than the ${skipRuns} to skip`);
  const from = skipRuns > 0 ? runs[skipRuns - 1]! + 1 : 0;
  const r: SessionRoofline = { label, runs: runs.length - skipRuns, kernelMs: 0, computeMs: 0, gflop: 0, otherMs: 0 };
  for (const e of events.slice(from)) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const ms = (e.dur ?? 0) / 1000;
    const flop = operatorFlops(e.args.op_name, (e.args.input_type_shape ?? []).map(dimsOf), dimsOf(e.args.output_type_shape?.[0]));
    r.kernelMs += ms;
    if (flop > 0) {
      r.computeMs += ms;
      r.gflop += flop / 1e9;
    } else {
      r.otherMs += ms;
    }
  }
  return r;
}

/**
 * A released session's profile (complete once released), without its first `skipRuns` runs. A
 * session stored in the optimised-graph cache was reopened from it: of its files, the one that ran.
 */
export function readSessionProfile(dir: string, label: string, skipRuns: number): SessionRoofline {
  const prefix = basename(profilePrefix(dir, label)) + '_';
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProfileEvent[]);
  const ran = profiles.sort((a, b) => count(b, 'model_run') - count(a, 'model_run'))[0];
  if (!ran) throw new Error(`${label}: no profile in ${dir}`);
  return analyseProfile(shortLabel(label), ran, skipRuns);
}

const count = (events: readonly ProfileEvent[], name: string) => events.filter((e) => e.name === name).length;

const WARM_UP_GENERATIONS = 2;

/**
 * Opens the model with profiling on, warms it up and returns each session's kernels in the next
 * generation. A session that generation did not run (a cached text, an unused preview) has runs 0.
 * `nextRequest` gives each generation its request: a new seed each, as in the timed runs (a seed
 * again with the same texts would skip a guided step's unconditional half).
 */
export async function profileGeneration(modelDir: string, options: PipelineOptions, nextRequest: () => GenerateRequest): Promise<SessionRoofline[]> {
  const dir = mkdtempSync(join(tmpdir(), 'yoso-profile-'));
  try {
    const pipeline = await StableDiffusionPipeline.fromFolder(modelDir, { ...options, profileDir: dir });
    let before: Array<{ label: string; runs: number }>;
    try {
      for (let i = 0; i < WARM_UP_GENERATIONS; i++) await pipeline.generate(nextRequest());
      before = pipelineSessions(pipeline).map((s) => ({ label: s.label, runs: s.runs }));
      await pipeline.generate(nextRequest());
    } finally {
      await pipeline.release();
    }
    return before.map((s) => readSessionProfile(dir, s.label, s.runs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReferenceRate {
  description: string;
  gflopPerS: number;
}

/**
 * onnxruntime's rate on this machine for the operator SD's decoders spend most on: a 3x3
 * convolution, 256 channels at 128² (19.3 GFLOP), best kernel time of 6 runs (weights' values do
 * not change the time).
 */
export async function referenceConvRate(intraOpThreads?: number): Promise<ReferenceRate> {
  const [c, side] = [256, 128];
  const dir = mkdtempSync(join(tmpdir(), 'yoso-roofline-'));
  try {
    const g = new GraphBuilder('reference_conv');
    const x = g.input('x', 'float32', [1, c, side, side]);
    const w = g.initializer('w', 'float32', [c, c, 3, 3], { kind: 'bytes', bytes: new Uint8Array(new Float32Array(c * c * 9).fill(0.01).buffer) });
    g.output(g.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), 'y', 'float32', [1, c, side, side]);
    writeOnnxModel(g.build(), dir, 'model.onnx');
    const session = await openSession(join(dir, 'model.onnx'), { provider: 'cpu', label: 'reference conv', profileDir: dir, ...(intraOpThreads ? { intraOpThreads } : {}) });
    const input = new ort.Tensor('float32', new Float32Array(c * side * side).fill(0.5), [1, c, side, side]);
    for (let i = 0; i < 6; i++) await session.run({ x: input });
    await session.release();
    let best = Infinity;
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const events = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProfileEvent[];
      for (const e of events) if (e.cat === 'Node' && e.args?.op_name === 'Conv' && e.name?.endsWith('_kernel_time')) best = Math.min(best, (e.dur ?? Infinity) / 1000);
    }
    const gflop = operatorFlops('Conv', [[], [c, c, 3, 3]], [1, c, side, side]) / 1e9;
    return { description: `3x3 convolution, ${c} channels at ${side}²`, gflopPerS: gflop / (best / 1000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatRoofline(title: string, sessions: readonly SessionRoofline[], reference: ReferenceRate): string {
  const s2 = (ms: number) => (ms / 1000).toFixed(2);
  const gf = (gflop: number) => gflop.toFixed(gflop < 10 ? 2 : 0);
  const rate = (gflop: number, ms: number) => `${ms > 0 ? (gflop / (ms / 1000)).toFixed(0) : '–'} GFLOP/s`;
  const lines = [`${title}: one generation profiled (arithmetic: Conv, MatMul, Gemm, MultiHeadAttention; 2 FLOP per multiply-add)`];
  for (const r of sessions) {
    lines.push(
      r.runs === 0
        ? `  ${r.label.padEnd(24)} not run in this generation`
        : `  ${r.label.padEnd(24)} ${r.runs}x: kernels ${s2(r.kernelMs)} s | ${gf(r.gflop)} GFLOP in ${s2(r.computeMs)} s = ${rate(r.gflop, r.computeMs)} | other operators ${s2(r.otherMs)} s`,
    );
  }
  const total = sessions.reduce((a, r) => ({ gflop: a.gflop + r.gflop, computeMs: a.computeMs + r.computeMs, otherMs: a.otherMs + r.otherMs }), { gflop: 0, computeMs: 0, otherMs: 0 });
  lines.push(
    `  all: ${gf(total.gflop)} GFLOP in ${s2(total.computeMs)} s = ${rate(total.gflop, total.computeMs)}, other operators ${s2(total.otherMs)} s | ` +
      `onnxruntime's best here (${reference.description}): ${rate(reference.gflopPerS, 1000)}, at which this arithmetic takes ${s2((total.gflop / reference.gflopPerS) * 1000)} s`,
  );
  return lines.join('\n');
}
