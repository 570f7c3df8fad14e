// PNG chunk framing: 8-byte signature, then chunks of [length u32][type 4 bytes][data][crc32 u32].
// The encoder writes its file with this, and main's metadata code adds and drops text chunks with
// it without re-encoding the pixels (stripping metadata or embedding it costs one copy of the file).
import { crc32 } from 'node:zlib';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export interface PngChunk {
  type: string;
  data: Uint8Array;
}

export function writeChunks(chunks: readonly PngChunk[]): Uint8Array {
  const size = 8 + chunks.reduce((n, c) => n + 12 + c.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(PNG_SIGNATURE, 0);
  let offset = 8;
  for (const chunk of chunks) {
    view.setUint32(offset, chunk.data.length);
    for (let i = 0; i < 4; i++) out[offset + 4 + i] = chunk.type.charCodeAt(i);
    out.set(chunk.data, offset + 8);
    view.setUint32(offset + 8 + chunk.data.length, crc32(out.subarray(offset + 4, offset + 8 + chunk.data.length)));
    offset += 12 + chunk.data.length;
  }
  return out;
}
