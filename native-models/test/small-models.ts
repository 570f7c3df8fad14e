// Helpers for tests that build small ONNX models and compare two forms of one: seeded values, float
// initializer data, and one run of a model.
import { createOrtSession, EXTERNAL_DATA_FOLDER, ort } from '../src/onnx/ort.ts';

/** Deterministic values uniform in [-scale/2, scale/2) (an LCG: the same on every platform). */
export function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * scale;
  });
}

/** Float32 values as a GraphBuilder initializer's data. */
export const floatData = (a: Float32Array) => ({ kind: 'bytes' as const, bytes: new Uint8Array(a.buffer) });

/**
 * Runs a model (path or bytes) once on `x` and returns its only output; `externalDataDir`: where
 * rewritten bytes find the weights they left in the model's files.
 */
export async function runOnce(model: string | Uint8Array, x: Float32Array, dims: number[], externalDataDir?: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const options = externalDataDir ? { extra: { [EXTERNAL_DATA_FOLDER]: externalDataDir } } : {};
  const session = await createOrtSession(model, options);
  try {
    const out = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, dims) }))[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** Runs a model (path or bytes) once on named feeds and returns its first output's values. */
export async function firstOutput(model: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await createOrtSession(model, {});
  try {
    return Object.values(await session.run(feeds))[0]!.data as Float32Array;
  } finally {
    await session.release();
  }
}
