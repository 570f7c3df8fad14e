// Pixel helpers: PNG encode/decode to 8-bit RGB(A) with fast-png, and thumbnails by area
// averaging (every source pixel contributes by the area it covers, so no aliasing on 4-8x
// downscales). Thumbnails are PNG: lossless and no extra dependency; 256 px keeps them ~50-90 KB.
import { convertIndexedToRgb, decode, encode } from 'fast-png';

export interface Rgb8Image {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

export function encodePng(image: Rgb8Image): Uint8Array {
  return encode({ width: image.width, height: image.height, data: image.data, channels: image.channels, depth: 8 });
}

/** Decodes any PNG (grey, palette, 16-bit, alpha) to 8-bit RGB or RGBA. */
export function decodeToRgb8(png: Uint8Array): Rgb8Image {
  const d = decode(png);
  if (d.palette) {
    const rgb = convertIndexedToRgb(d);
    const channels = rgb.length === d.width * d.height * 4 ? 4 : 3;
    return { width: d.width, height: d.height, channels, data: rgb };
  }
  const src = d.data;
  const shift = d.depth === 16 ? 8 : 0;
  const hasAlpha = d.channels === 2 || d.channels === 4;
  const channels = hasAlpha ? 4 : 3;
  const n = d.width * d.height;
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const s = p * d.channels;
    const o = p * channels;
    if (d.channels >= 3) {
      out[o] = src[s]! >> shift;
      out[o + 1] = src[s + 1]! >> shift;
      out[o + 2] = src[s + 2]! >> shift;
    } else {
      const g = src[s]! >> shift;
      out[o] = out[o + 1] = out[o + 2] = g;
    }
    if (hasAlpha) out[o + 3] = src[s + d.channels - 1]! >> shift;
  }
  return { width: d.width, height: d.height, channels, data: out };
}

/** Weights of source pixels for each destination pixel along one axis: [start, weights...]. */
function areaWeights(srcSize: number, dstSize: number): Array<{ start: number; weights: Float64Array }> {
  const scale = srcSize / dstSize;
  const result = [];
  for (let d = 0; d < dstSize; d++) {
    const from = d * scale;
    const to = from + scale;
    const start = Math.floor(from);
    const end = Math.min(srcSize, Math.ceil(to));
    const weights = new Float64Array(end - start);
    for (let s = start; s < end; s++) weights[s - start] = (Math.min(to, s + 1) - Math.max(from, s)) / scale;
    result.push({ start, weights });
  }
  return result;
}

/** Area-average downscale so the longer side is at most `maxSide` (never upscales). */
export function downscale(image: Rgb8Image, maxSide: number): Rgb8Image {
  const factor = Math.min(1, maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * factor));
  const height = Math.max(1, Math.round(image.height * factor));
  if (width === image.width && height === image.height) return image;
  const c = image.channels;
  const xs = areaWeights(image.width, width);
  const ys = areaWeights(image.height, height);
  // Horizontal pass into floats, then vertical pass: O(w*h*c*(scale)) instead of O(w*h*c*scale^2).
  const rows = new Float64Array(image.height * width * c);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const { start, weights } = xs[x]!;
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let i = 0; i < weights.length; i++) sum += weights[i]! * image.data[(y * image.width + start + i) * c + k]!;
        rows[(y * width + x) * c + k] = sum;
      }
    }
  }
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const { start, weights } = ys[y]!;
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let i = 0; i < weights.length; i++) sum += weights[i]! * rows[((start + i) * width + x) * c + k]!;
        out[(y * width + x) * c + k] = Math.min(255, Math.max(0, Math.round(sum)));
      }
    }
  }
  return { width, height, channels: c, data: out };
}
