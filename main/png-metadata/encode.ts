// PNG encoder for the save path. fast-png's encoder runs its JS deflate on the calling thread
// (86-260 ms for a 512x512 image here, blocking the server's event loop) and writes unfiltered
// rows. Here rows get the Paeth filter (better compression on photographic images, as PIL/A1111
// files have) and zlib's native deflate runs on libuv's thread pool, off the event loop.
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { writeChunks, type PngChunk } from './chunks.ts';

const deflateAsync = promisify(deflate);

export interface RawImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** Scanlines with a leading filter byte, each Paeth-filtered against the row above. */
export function paethFiltered({ width, height, channels, data }: RawImage): Buffer {
  const stride = width * channels;
  const out = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    const row = y * stride;
    const prev = row - stride;
    out[o] = 4;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[row + i - channels]! : 0;
      const b = y > 0 ? data[prev + i]! : 0;
      const c = y > 0 && i >= channels ? data[prev + i - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[o + 1 + i] = (data[row + i]! - predictor) & 0xff;
    }
  }
  return out;
}

/** 8-bit RGB/RGBA PNG; `chunks` (text) go right after IHDR. */
export async function encodePngAsync(image: RawImage, chunks: readonly PngChunk[] = [], level = 6): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`pixel buffer has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  const idat = await deflateAsync(paethFiltered(image), { level });
  return writeChunks([
    { type: 'IHDR', data: ihdr },
    ...chunks,
    { type: 'IDAT', data: idat },
    { type: 'IEND', data: new Uint8Array(0) },
  ]);
}
