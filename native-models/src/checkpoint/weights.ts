// A table of named weights, keyed by component + diffusers state-dict key ("unet.conv_in.weight"),
// whatever file layout they came from. Each weight knows where its bytes are, so the graph writer
// can point at them in place when their type is what the graph needs, and converts them otherwise.
import type { TensorData } from '../graph/graph-builder.ts';
import { readTensorBytes, type TensorEntry } from './safetensors.ts';

export type WeightDtype = 'F32' | 'F16' | 'BF16';

export interface Weight {
  shape: number[];
  dtype: WeightDtype;
  /** Where the raw bytes live, when they live in a file. */
  source?: TensorEntry;
  /** The values as float32 (converted from float16 / bfloat16 as needed). */
  readFloat32(): Float32Array;
}

export interface WeightTable {
  get(key: string): Weight | undefined;
  keys(): string[];
}

export function mapWeightTable(map: Map<string, Weight>): WeightTable {
  return { get: (k) => map.get(k), keys: () => [...map.keys()] };
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export function toFloat32(bytes: Uint8Array, dtype: WeightDtype): Float32Array {
  // Buffer.slice() is a view, so copy explicitly when unaligned.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  if (dtype === 'F32') return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  const out = new Float32Array(halves.length);
  if (dtype === 'F16') {
    for (let i = 0; i < halves.length; i++) out[i] = f16Table[halves[i]!]!;
  } else {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) u32[i] = halves[i]! << 16;
  }
  return out;
}

export function fileWeight(entry: TensorEntry, shape = entry.shape): Weight {
  const dtype = entry.dtype as WeightDtype;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new Error(`${entry.path}: weight ${entry.key} has dtype ${entry.dtype}; only F32, F16 and BF16 weights are supported`);
  }
  return { shape, dtype, source: entry, readFloat32: () => toFloat32(readTensorBytes(entry), dtype) };
}

/** Float32 tensor data for a weight, pointing at the file bytes when they are already float32. */
export function float32Data(w: Weight): TensorData {
  const elements = w.shape.reduce((a, b) => a * b, 1);
  if (w.dtype === 'F32' && w.source) {
    return { kind: 'file', path: w.source.path, offset: w.source.offset, length: w.source.length };
  }
  return { kind: 'lazy', byteLength: elements * 4, produce: () => asBytes(w.readFloat32()) };
}

/** Float32 data of a 2-D weight [out, in] stored transposed ([in, out]), as MatMul nodes hold it. */
export function transposedFloat32Data(w: Weight): TensorData {
  const [rows, cols] = [w.shape[0]!, w.shape[1]!];
  return {
    kind: 'lazy',
    byteLength: rows * cols * 4,
    produce: () => {
      const src = w.readFloat32();
      const out = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
      return asBytes(out);
    },
  };
}

export function asBytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
