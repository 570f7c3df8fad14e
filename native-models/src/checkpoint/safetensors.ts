// Reads the header of a .safetensors file (8-byte little-endian length, JSON, then raw data) and
// locates each tensor's bytes without loading them. A truncated download is refused here, before
// any graph is built, with the sizes that show it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface TensorEntry {
  key: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offset of the tensor's data inside the file. */
  offset: number;
  length: number;
  path: string;
}

export interface SafetensorsFile {
  path: string;
  size: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export class CheckpointFileError extends Error {}

const MAX_HEADER = 100 * 1024 * 1024;

export function readSafetensorsHeader(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || readSync(fd, lenBuf, 0, 8, 0) !== 8) {
      throw new CheckpointFileError(`${path} is not a .safetensors file: it has ${size} bytes, fewer than the 8-byte header length`);
    }
    const headerLength = Number(lenBuf.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER || 8 + headerLength > size) {
      throw new CheckpointFileError(
        `${path} is truncated or not a .safetensors file: its header claims ${headerLength} bytes but the file has ${size} bytes; download it again`,
      );
    }
    const headerBuf = Buffer.alloc(headerLength);
    readSync(fd, headerBuf, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new CheckpointFileError(`${path} has an unreadable .safetensors header (${(e as Error).message}); is it a .safetensors file?`);
    }
    const dataStart = 8 + headerLength;
    const tensors = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    let dataEnd = 0;
    for (const [key, raw] of Object.entries(header)) {
      if (key === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const info = raw as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
      const bytesPer = DTYPE_BYTES[info.dtype];
      if (bytesPer === undefined) throw new CheckpointFileError(`${path}: tensor ${key} has unsupported dtype ${info.dtype}`);
      const [begin, end] = info.data_offsets;
      const expected = info.shape.reduce((a, b) => a * b, 1) * bytesPer;
      if (end - begin !== expected) {
        throw new CheckpointFileError(`${path}: tensor ${key} (${info.dtype} ${JSON.stringify(info.shape)}) spans ${end - begin} bytes, expected ${expected}; the file is damaged`);
      }
      dataEnd = Math.max(dataEnd, end);
      tensors.set(key, { key, dtype: info.dtype, shape: info.shape, offset: dataStart + begin, length: end - begin, path });
    }
    if (dataStart + dataEnd > size) {
      throw new CheckpointFileError(
        `${path} is truncated: its header describes ${dataStart + dataEnd} bytes but the file has only ${size} (${((100 * size) / (dataStart + dataEnd)).toFixed(1)}%); download it again`,
      );
    }
    return { path, size, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

export function readTensorBytes(entry: TensorEntry): Uint8Array {
  const out = new Uint8Array(entry.length);
  const fd = openSync(entry.path, 'r');
  try {
    let done = 0;
    while (done < entry.length) {
      const n = readSync(fd, out, done, entry.length - done, entry.offset + done);
      if (n === 0) throw new CheckpointFileError(`${entry.path} ended inside tensor ${entry.key}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
