// Reads the header of a .safetensors file (8-byte little-endian length, JSON, then raw data) and
// locates each tensor's bytes without loading them. A truncated download is refused here, before
// any graph is built, with the sizes that show it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseSafetensorsHeader, readHeaderLength, SafetensorsError, type SafetensorsDtype } from '../util/safetensors-header.ts';

export type { SafetensorsDtype };

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

/** Reads only the header (the data stays on disk) and checks it with the shared parser. */
export function readSafetensorsHeader(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const first8 = Buffer.alloc(8);
    readSync(fd, first8, 0, 8, 0);
    const header = describe(path, () => {
      const json = Buffer.alloc(readHeaderLength(first8, size));
      readSync(fd, json, 0, json.length, 8);
      return parseSafetensorsHeader(json, size);
    });
    const tensors = new Map<string, TensorEntry>();
    for (const t of header.tensors) {
      tensors.set(t.key, { key: t.key, dtype: t.dtype, shape: t.shape, offset: header.dataStart + t.begin, length: t.end - t.begin, path });
    }
    return { path, size, tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

/** A header problem as a CheckpointFileError naming the file and what to do. */
function describe<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    const what = error.message.startsWith('the file is ') ? `${path} is ${error.message.slice('the file is '.length)}` : `${path} is not a .safetensors file (or it is damaged): ${error.message}`;
    throw new CheckpointFileError(`${what}; download it again`);
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
