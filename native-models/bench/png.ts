// npm run bench:png [-- --size S] [--runs N]
// PNG encode time and size for three kinds of picture: our encoder (Paeth rows, node:zlib) with RLE,
// level 1 and level 6, against fast-png's encoder (unfiltered rows, JS deflate), which encoded the
// pipeline's images and previews before. A few seconds at 512².
import { parseArgs } from 'node:util';
import { encode as fastPngEncode } from 'fast-png';
import { intOption } from '../cli/args.ts';
import { encodePng, rgbPixels, type PngOptions } from '../src/image/png.ts';

const { values } = parseArgs({ options: { size: { type: 'string' }, runs: { type: 'string' } } });
const size = intOption('size', values.size, 16, 4096) ?? 512;
const runs = intOption('runs', values.runs, 1, 100) ?? 5;

/** Park-Miller style LCG in [0, 1): the pictures are the same on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Octaves of bilinear value noise with amplitude ~ 1/frequency (the spectrum of photographs), plus sensor-like grain. */
function naturalPicture(side: number): Uint8Array {
  const r = random(11);
  const acc = new Float32Array(side * side * 3);
  for (let cell = 256, amp = 120; cell >= 2; cell /= 2, amp /= 1.6) {
    const n = Math.ceil(side / cell) + 2;
    const grid = Float32Array.from({ length: n * n * 3 }, () => r() - 0.5);
    for (let y = 0; y < side; y++) {
      const gy = y / cell;
      const iy = Math.floor(gy);
      const fy = gy - iy;
      for (let x = 0; x < side; x++) {
        const gx = x / cell;
        const ix = Math.floor(gx);
        const fx = gx - ix;
        for (let c = 0; c < 3; c++) {
          const at = (i: number, j: number) => grid[(j * n + i) * 3 + c]!;
          const top = at(ix, iy) * (1 - fx) + at(ix + 1, iy) * fx;
          const bottom = at(ix, iy + 1) * (1 - fx) + at(ix + 1, iy + 1) * fx;
          acc[(y * side + x) * 3 + c]! += amp * (top * (1 - fy) + bottom * fy);
        }
      }
    }
  }
  return new Uint8Array(Uint8ClampedArray.from(acc, (v) => 128 + v + (r() - 0.5) * 4));
}

function smoothPicture(side: number): Uint8Array {
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      for (let c = 0; c < 3; c++) out[(y * side + x) * 3 + c] = Math.round(128 + 90 * Math.sin(x / 37 + c) * Math.cos(y / 53 - c));
    }
  }
  return out;
}

function noisePicture(side: number): Uint8Array {
  const r = random(7);
  return Uint8Array.from({ length: side * side * 3 }, () => Math.floor(r() * 256));
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

function measure(encodeOnce: () => Uint8Array): { ms: number; kib: number } {
  encodeOnce(); // warm-up: JIT and zlib's first allocation
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    bytes = encodeOnce().length;
    times.push(performance.now() - start);
  }
  return { ms: median(times), kib: bytes / 1024 };
}

const pictures = { natural: naturalPicture(size), smooth: smoothPicture(size), noise: noisePicture(size) };
const ours: Array<[string, PngOptions['deflate']]> = [['rle', 'rle'], ['level 1', 1], ['level 6', 6]];
console.log(`PNG encode ${size}x${size} RGB, median of ${runs}`);
for (const [name, rgb] of Object.entries(pictures)) {
  const image = rgbPixels(rgb, size, size);
  const rows = [
    ...ours.map(([label, deflate]) => [`paeth + ${label}`, measure(() => encodePng(image, { deflate }))] as const),
    ['fast-png', measure(() => fastPngEncode({ width: size, height: size, data: rgb, channels: 3, depth: 8 }))] as const,
  ];
  console.log(`${name.padEnd(8)} ${rows.map(([label, f]) => `${label} ${f.ms.toFixed(1)} ms / ${f.kib.toFixed(0)} KiB`).join(' | ')}`);
}
