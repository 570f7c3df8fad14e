// Reading PNG chunks, and adding or dropping text chunks without re-encoding the pixels, so
// stripping metadata or embedding it in an image encoded elsewhere costs one copy of the file.
// The framing (signature, writeChunks) is the encoder's, in native-models.
import { crc32 } from 'node:zlib';
import { PNG_SIGNATURE, writeChunks, type PngChunk } from '../../native-models/src/image/png-chunks.ts';

export { writeChunks, type PngChunk };

export class PngFormatError extends Error {
  override name = 'PngFormatError';
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

export function readChunks(bytes: Uint8Array): PngChunk[] {
  if (!isPng(bytes)) throw new PngFormatError('not a PNG file (the 8-byte PNG signature is missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) throw new PngFormatError(`PNG is truncated: a chunk at byte ${offset} runs past the end`);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const stored = view.getUint32(offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== stored) {
      throw new PngFormatError(`PNG is damaged: chunk ${type} at byte ${offset} fails its CRC check`);
    }
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length) });
    offset = end;
    if (type === 'IEND') return chunks;
  }
  throw new PngFormatError('PNG is truncated: no IEND chunk');
}

/** Chunk types that carry text or capture details, dropped by the privacy option. */
const METADATA_CHUNKS = new Set(['tEXt', 'iTXt', 'zTXt', 'eXIf', 'tIME']);

export function stripMetadataChunks(png: Uint8Array): Uint8Array {
  return writeChunks(readChunks(png).filter((c) => !METADATA_CHUNKS.has(c.type)));
}

/** Inserts chunks right after IHDR, where PIL (and so A1111) puts them: readers that stop at IDAT see them. */
export function insertAfterHeader(png: Uint8Array, extra: readonly PngChunk[]): Uint8Array {
  const chunks = readChunks(png);
  if (chunks[0]?.type !== 'IHDR') throw new PngFormatError('PNG does not start with IHDR');
  return writeChunks([chunks[0], ...extra, ...chunks.slice(1)]);
}
