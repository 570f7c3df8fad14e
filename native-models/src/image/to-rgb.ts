/**
 * VAE output [B,3,H,W] in about [-1, 1] -> one RGB uint8 (HWC) image per batch row, exactly as
 * diffusers converts: clamp(x/2 + 0.5, 0, 1) in float32, then numpy's round(255 * v) (half to even).
 */
import { f32 } from '../rng/float32-math.ts';

function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds .5 up; numpy rounds it to the even neighbour
  return r - x === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

export function vaeOutputToRgb(data: Float32Array, dims: readonly number[]): Uint8Array[] {
  const [batch, channels, height, width] = dims as [number, number, number, number];
  if (dims.length !== 4 || channels !== 3) throw new Error(`VAE output has shape [${dims.join(', ')}]; expected [B, 3, H, W]`);
  const plane = height * width;
  const images: Uint8Array[] = [];
  for (let b = 0; b < batch; b++) {
    const rgb = new Uint8Array(plane * 3);
    const base = b * 3 * plane;
    for (let c = 0; c < 3; c++) {
      const offset = base + c * plane;
      for (let p = 0; p < plane; p++) {
        // x/2 is exact in float32, so one rounding gives float32's (x/2) + 0.5.
        let v = f32(data[offset + p]! * 0.5 + 0.5);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        rgb[p * 3 + c] = roundHalfEven(f32(v * 255));
      }
    }
    images.push(rgb);
  }
  return images;
}
