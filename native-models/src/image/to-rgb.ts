/**
 * VAE output [B,3,H,W] in about [-1, 1] -> one RGB uint8 (HWC) image per batch row, exactly as
 * diffusers converts: clamp(x/2 + 0.5, 0, 1) in float32, then numpy's round(255 * v) (half to even).
 */

/**
 * Adding and subtracting 2^52 rounds a double below 2^51 to an integer, ties to even (the FPU's
 * rounding), which is numpy's round; 3x faster than Math.round with a tie fix-up (5 vs 15-22 ms at
 * 512²), and the preview's conversion is on the way to the first picture.
 */
const ROUND_HALF_EVEN = 2 ** 52;

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
      for (let p = 0, q = c; p < plane; p++, q += 3) {
        // x/2 is exact in float32, so one rounding gives float32's (x/2) + 0.5.
        let v = Math.fround(data[offset + p]! * 0.5 + 0.5);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        rgb[q] = Math.fround(v * 255) + ROUND_HALF_EVEN - ROUND_HALF_EVEN;
      }
    }
    images.push(rgb);
  }
  return images;
}
