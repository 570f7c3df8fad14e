// The safetensors header (8-byte little-endian length, then JSON naming each tensor's dtype, shape
// and byte range in the data section), validated field by field before a byte of tensor data is
// trusted. Shared by the LoRA reader (whole file in memory) and the checkpoint reader (header only,
// tensors read in place from multi-GB files): they differ only in how they get the bytes.
import { bfloat16ToFloats, halfToFloats } from './float16.ts';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
/** A header larger than this is not a model file (a full SD 1.5 checkpoint's is ~150 KB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface HeaderTensor {
  key: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the data section (which starts right after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** 8 + the JSON length: where the data section starts in the file. */
  dataStart: number;
  metadata: Record<string, string>;
  tensors: HeaderTensor[];
}

/** Length of the JSON header, from the file's first 8 bytes; checked against the file size. */
export function readHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) throw new SafetensorsError(`file has ${fileSize} bytes, less than the 8-byte header length`);
  const length = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (length > MAX_HEADER_BYTES || 8 + length > fileSize) {
    throw new SafetensorsError(`its header claims ${length} bytes but the file has ${fileSize} bytes (truncated, or not safetensors)`);
  }
  return length;
}

const isIndex = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) >= 0;

/** Parses and checks the JSON header of a file of `fileSize` bytes whose header is `json`. */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number): SafetensorsHeader {
  const dataStart = 8 + json.length;
  const dataLength = fileSize - dataStart;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (error) {
    throw new SafetensorsError(`header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: HeaderTensor[] = [];
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof entry === 'object' && entry !== null) {
        for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(key, entry));
  }
  const dataEnd = tensors.reduce((max, t) => Math.max(max, t.end), 0);
  if (dataEnd > dataLength) {
    const needed = dataStart + dataEnd;
    throw new SafetensorsError(
      `the file is truncated: its header describes ${needed} bytes but the file has only ${fileSize} (${((100 * fileSize) / needed).toFixed(1)}%)`,
    );
  }
  const byStart = [...tensors].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byStart.length; i++) {
    const [before, after] = [byStart[i - 1]!, byStart[i]!];
    if (after.begin < before.end) {
      throw new SafetensorsError(`tensors ${before.key} [${before.begin}, ${before.end}) and ${after.key} [${after.begin}, ${after.end}) overlap`);
    }
  }
  return { dataStart, metadata, tensors };
}

function parseEntry(key: string, entry: unknown): HeaderTensor {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = e.dtype as SafetensorsDtype;
  const size = typeof e.dtype === 'string' && Object.hasOwn(DTYPE_BYTES, e.dtype) ? DTYPE_BYTES[dtype] : undefined;
  if (size === undefined) throw new SafetensorsError(`tensor ${key} has unknown dtype ${String(e.dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw new SafetensorsError(`tensor ${key} has an invalid shape ${JSON.stringify(shape)} (needs a list of sizes ≥ 0)`);
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new SafetensorsError(`tensor ${key} has invalid data_offsets ${JSON.stringify(offsets)} (needs [begin, end], both ≥ 0)`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = shape.reduce((a: number, b: number) => a * b, 1) * size;
  if (end < begin || end - begin !== expected) {
    throw new SafetensorsError(`tensor ${key} (${dtype} ${JSON.stringify(shape)}): data_offsets span ${end - begin} bytes, its shape needs ${expected}`);
  }
  return { key, dtype, shape, begin, end };
}

/** A tensor's little-endian bytes as float32 (F16/BF16/F64 converted); other dtypes are refused. */
export function floatTensorToFloat32(key: string, dtype: string, bytes: Uint8Array): Float32Array {
  // Typed-array views need aligned offsets; a Buffer slice may not be.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const view = <T>(Kind: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }) =>
    new Kind(aligned.buffer, aligned.byteOffset, aligned.byteLength / Kind.BYTES_PER_ELEMENT);
  switch (dtype) {
    case 'F32':
      return view(Float32Array);
    case 'F64':
      return Float32Array.from(view(Float64Array));
    case 'F16':
      return halfToFloats(view(Uint16Array));
    case 'BF16':
      return bfloat16ToFloats(view(Uint16Array));
    default:
      throw new SafetensorsError(`tensor ${key} has dtype ${dtype}; floating-point weights (F32, F16, BF16, F64) are needed`);
  }
}
