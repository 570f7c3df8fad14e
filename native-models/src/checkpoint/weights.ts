// A table of named weights, keyed by component + diffusers state-dict key ("unet.conv_in.weight"),
// whatever file layout they came from. Each weight knows where its bytes are, so the graph writer
// can point at them in place when their type is what the graph needs, and converts them otherwise.
import type { TensorData } from '../graph/graph-builder.ts';
import { floatTensorToFloat32 } from '../util/safetensors-header.ts';
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

export function toFloat32(bytes: Uint8Array, dtype: WeightDtype): Float32Array {
  return floatTensorToFloat32('weight', dtype, bytes);
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
