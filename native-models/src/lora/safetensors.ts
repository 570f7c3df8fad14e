// Reader for the safetensors format (8-byte little-endian header length, JSON header, raw data).
// Every header field is validated before a byte of tensor data is trusted, so a truncated or
// corrupt file becomes a SafetensorsError that names the problem, never a crash or a garbage tensor.
import { readFile } from 'node:fs/promises';
import { fromHalfBits as halfToFloat } from '../util/float16.ts';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** A header larger than this is not a LoRA file (the real YOSO LoRA's header is ~100 KB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  /** The tensor's raw little-endian bytes (a view into the file buffer). */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SafetensorsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) {
      throw new SafetensorsError(`${path} is not a valid .safetensors file: ${error.message}. Download it again.`);
    }
    throw error;
  }
}

export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(`file has ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new SafetensorsError(`header length ${headerLength} exceeds the file size ${bytes.length} (truncated or not safetensors)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  } catch {
    throw new SafetensorsError('header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header is not a JSON object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry === 'object' && entry !== null) {
        for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, parseEntry(name, entry, bytes, dataStart, dataLength));
  }
  return { metadata, tensors };
}

function parseEntry(name: string, entry: unknown, bytes: Uint8Array, dataStart: number, dataLength: number): SafetensorsTensor {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const size = typeof e?.dtype === 'string' ? DTYPE_BYTES[e.dtype] : undefined;
  if (size === undefined) throw new SafetensorsError(`tensor ${name} has unknown dtype ${String(e?.dtype)}`);
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor ${name} has an invalid shape`);
  }
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor ${name} has invalid data_offsets`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * size;
  if (end < begin || end - begin !== expected) {
    throw new SafetensorsError(`tensor ${name}: data_offsets span ${end - begin} bytes, its shape needs ${expected}`);
  }
  if (end > dataLength) {
    throw new SafetensorsError(`tensor ${name} ends at byte ${end} of a ${dataLength}-byte data section (file truncated)`);
  }
  return {
    dtype: e.dtype as string,
    shape: shape as number[],
    bytes: bytes.subarray(dataStart + begin, dataStart + end),
  };
}

/** Copies a floating-point tensor into a Float32Array (F16/BF16/F64 are converted). */
export function toFloat32(name: string, tensor: SafetensorsTensor): Float32Array {
  const { bytes } = tensor;
  const count = bytes.length / (DTYPE_BYTES[tensor.dtype] ?? 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (tensor.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new SafetensorsError(`tensor ${name} has dtype ${tensor.dtype}; LoRA weights must be floating point`);
  }
}
