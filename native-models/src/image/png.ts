// The one PNG encoder: 8-bit RGB/RGBA, every row Paeth-filtered (the filter PIL and libpng pick
// for photographic images; it halves or better the size of smooth pictures against unfiltered
// rows), deflated by node:zlib. Two forms with the same output: `encodePng` deflates on the calling
// thread (the pipeline, the CLI, previews), `encodePngAsync` deflates on libuv's thread pool so the
// event loop that saves to history (server or inference worker) stays free. Decoding stays with fast-png.
import { promisify } from 'node:util';
import { constants, deflate, deflateSync, type ZlibOptions } from 'node:zlib';
import { writeChunks, type PngChunk } from './png-chunks.ts';
import { textChunk } from './png-text.ts';

const deflateAsync = promisify(deflate);

export interface PngImage {
  width: number;
  height: number;
  /** 3: RGB, 4: RGBA; 8 bits per channel, rows top to bottom. */
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

export interface PngOptions {
  /** Text chunks by keyword (A1111's "parameters"): tEXt when Latin-1, iTXt otherwise. */
  text?: Record<string, string>;
  /** Ready-made chunks (main's metadata chunks), written after `text`. */
  chunks?: readonly PngChunk[];
  /** 'rle' (default): zlib's run-length strategy; a number: that zlib level with zlib's default strategy. */
  deflate?: 'rle' | DeflateLevel;
}

export type DeflateLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Why RLE by default (npm run bench:png, 512² RGB, this 2-core CPU): on a natural-like picture
 * 17 ms / 302 KiB against level 6's 45 ms / 338 KiB and level 1's 20 ms / 356 KiB; on smooth
 * gradients 14 ms / 155 KiB against 93 ms / 132 KiB (the one case where it is larger). After Paeth
 * most of the gain is Huffman-coding small residuals, which RLE keeps while skipping zlib's match
 * search. Full table where the preview's choice is made (encodePreview, main/inference/worker-preview.ts).
 */
function zlibOptions(choice: PngOptions['deflate'] = 'rle'): ZlibOptions {
  return choice === 'rle' ? { strategy: constants.Z_RLE } : { level: choice };
}

/** The RGB pixels the pipeline produces, as the encoder takes them. */
export function rgbPixels(rgb: Uint8Array, width: number, height: number): PngImage {
  return { width, height, channels: 3, data: rgb };
}

/** Scanlines with a leading filter byte, each Paeth-filtered against the row above. */
function paethFiltered({ width, height, channels, data }: PngImage): Buffer {
  const stride = width * channels;
  const out = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1) + 1;
    const row = y * stride;
    out[o - 1] = 4;
    if (y === 0) {
      // No row above: Paeth predicts the left neighbour (b = c = 0).
      for (let i = 0; i < stride; i++) out[o + i] = (data[i]! - (i >= channels ? data[i - channels]! : 0)) & 0xff;
      continue;
    }
    const prev = row - stride;
    // First pixel: no left neighbour, Paeth predicts the byte above (a = c = 0).
    for (let i = 0; i < channels; i++) out[o + i] = (data[row + i]! - data[prev + i]!) & 0xff;
    for (let i = channels; i < stride; i++) {
      const a = data[row + i - channels]!;
      const b = data[prev + i]!;
      const c = data[prev + i - channels]!;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      out[o + i] = (data[row + i]! - predictor) & 0xff;
    }
  }
  return out;
}

function checkImage({ width, height, channels, data }: PngImage): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`PNG size must be whole numbers of at least 1 pixel (got ${width}x${height})`);
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    const kind = channels === 4 ? 'RGBA' : 'RGB';
    throw new Error(`pixel buffer has ${data.length} bytes, expected ${expected} (${width}x${height}x${channels} for ${kind} at 8 bits)`);
  }
}

function header({ width, height, channels }: PngImage): PngChunk {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  return { type: 'IHDR', data: ihdr }; // compression, filter method, interlace: 0
}

/** Checks the image and builds the text chunks, so bad input fails before the deflate. */
function metadataChunks(image: PngImage, options: PngOptions): PngChunk[] {
  checkImage(image);
  const text = Object.entries(options.text ?? {}).map(([keyword, value]) => textChunk(keyword, value));
  return [...text, ...(options.chunks ?? [])];
}

/** IHDR, the metadata right after it (where PIL puts it, so readers that stop at IDAT see it), IDAT, IEND. */
function assemble(image: PngImage, metadata: readonly PngChunk[], idat: Uint8Array): Uint8Array {
  return writeChunks([header(image), ...metadata, { type: 'IDAT', data: idat }, { type: 'IEND', data: new Uint8Array(0) }]);
}

/** PNG bytes, deflated on the calling thread. */
export function encodePng(image: PngImage, options: PngOptions = {}): Uint8Array {
  const metadata = metadataChunks(image, options);
  return assemble(image, metadata, deflateSync(paethFiltered(image), zlibOptions(options.deflate)));
}

/** The same bytes as `encodePng`; the deflate runs on libuv's thread pool (the filter on the calling thread). */
export async function encodePngAsync(image: PngImage, options: PngOptions = {}): Promise<Uint8Array> {
  const metadata = metadataChunks(image, options);
  return assemble(image, metadata, await deflateAsync(paethFiltered(image), zlibOptions(options.deflate)));
}
