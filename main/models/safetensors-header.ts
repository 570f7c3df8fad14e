// Reads only the JSON header of a .safetensors file (8-byte little-endian length, then JSON):
// enough to check a LoRA's keys and shapes without loading its tensors.
import { open } from 'node:fs/promises';

export interface SafetensorsTensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
}

/** The format allows up to 100 MB of header; real LoRAs have well under 1 MB. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const lengthBuf = Buffer.alloc(8);
    if (size < 8 || (await handle.read(lengthBuf, 0, 8, 0)).bytesRead < 8) {
      throw new Error(`${path} is not a safetensors file: it is shorter than 8 bytes`);
    }
    const headerLength = Number(lengthBuf.readBigUInt64LE(0));
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      throw new Error(`${path} is not a safetensors file: header length ${headerLength} does not fit a ${size}-byte file`);
    }
    const headerBuf = Buffer.alloc(headerLength);
    await handle.read(headerBuf, 0, headerLength, 8);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new Error(`${path} is not a safetensors file: its header is not JSON`);
    }
    const { __metadata__, ...rest } = parsed;
    const dataBytes = size - 8 - headerLength;
    const tensors: Record<string, SafetensorsTensorInfo> = {};
    for (const [name, raw] of Object.entries(rest)) {
      const info = raw as SafetensorsTensorInfo;
      const [begin, end] = info?.data_offsets ?? [];
      if (!Array.isArray(info?.shape) || typeof begin !== 'number' || typeof end !== 'number' || end < begin || end > dataBytes) {
        throw new Error(`${path}: tensor ${name} has invalid offsets or shape (truncated file?)`);
      }
      tensors[name] = info;
    }
    return { tensors, metadata: (__metadata__ ?? {}) as Record<string, string> };
  } finally {
    await handle.close();
  }
}
