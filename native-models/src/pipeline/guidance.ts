/**
 * How diffusers lays out a classifier-free-guidance batch and combines its halves: the UNet gets
 * [uncond × B, cond × B] text rows with the latents repeated, and the prediction is u + g·(c − u).
 */
import { f32 } from '../rng/float32-math.ts';

export const VAE_SCALE = 8;

/** Concatenates rows (the first `rowSize` values of each source) into one batch tensor. */
export function stackRows(sources: Float32Array[], rowSize: number): Float32Array {
  const out = new Float32Array(sources.length * rowSize);
  sources.forEach((s, i) => out.set(s.subarray(0, rowSize), i * rowSize));
  return out;
}

/** A UNet exported with fixed axes takes only that batch and size; say so before any work is done. */
export function checkSampleShape(declared: ReadonlyArray<number | string> | undefined, wanted: number[]): void {
  if (!declared) return;
  const clash = declared.some((d, axis) => typeof d === 'number' && d !== wanted[axis]);
  if (clash) {
    throw new RangeError(
      `this UNet was exported for samples of shape [${declared.join(', ')}] only; ${wanted[3]! * VAE_SCALE}x${wanted[2]! * VAE_SCALE} ` +
        `needs [${wanted.join(', ')}] (batch doubles with guidance > 1); pick the size the model was exported for`,
    );
  }
}

/** Classifier-free guidance on a [2B,…] prediction (uncond rows first): u + g·(c − u), in float32. */
export function guide(prediction: Float32Array, half: number, guidance: number): Float32Array {
  const g = f32(guidance);
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const u = prediction[i]!;
    out[i] = f32(u + f32(g * f32(prediction[half + i]! - u)));
  }
  return out;
}
