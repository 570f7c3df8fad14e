// The LoRA reader: the whole .safetensors file in memory (a LoRA is a few MB to a few hundred),
// its header checked by the shared parser (util/safetensors-header.ts) before a byte of tensor
// data is trusted, so a truncated or corrupt file becomes a SafetensorsError that names the
// problem, never a crash or a garbage tensor.
import { readFile } from 'node:fs/promises';
import {
  floatTensorToFloat32,
  parseSafetensorsHeader,
  readHeaderLength,
  SafetensorsError,
  type SafetensorsDtype,
} from '../util/safetensors-header.ts';

export { SafetensorsError };

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
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
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLength), bytes.length);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of header.tensors) {
    tensors.set(t.key, { dtype: t.dtype, shape: t.shape, bytes: bytes.subarray(header.dataStart + t.begin, header.dataStart + t.end) });
  }
  return { metadata: header.metadata, tensors };
}

/** Copies a floating-point tensor into a Float32Array (F16/BF16/F64 are converted). */
export function toFloat32(name: string, tensor: { dtype: string; bytes: Uint8Array; shape?: readonly number[] }): Float32Array {
  // A copy: callers own the result, and it must not alias the file buffer.
  return Float32Array.from(floatTensorToFloat32(name, tensor.dtype, tensor.bytes));
}
