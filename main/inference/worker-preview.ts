// The inference process's side of the quick preview: which TAESD graph the loaded pipeline decodes
// previews with, and the preview's PNG. The main side names the graph per job (a base's own
// taesd_decoder/ or the shared one in the models folder); it is opened once and kept until another
// is named or the base model is released.
import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  OnnxVaeDecoder,
  PREVIEW_DECODER_DIR,
  encodePng,
  openSession,
  rgbPixels,
  type ProviderChoice,
  type SessionOptions,
  type StableDiffusionPipeline,
  type VaeDecoder,
} from '../../native-models/src/index.ts';
import { DEFAULT_TUNING } from '../../native-models/src/pipeline/pipeline.ts';

export class PreviewDecoderSlot {
  /** Graph the pipeline's preview decoder was opened from; null when it has none. */
  private path: string | null;

  constructor(
    private readonly pipeline: StableDiffusionPipeline,
    baseDir: string,
    /** The pipeline's provider, memory settings and graph cache, for the decoders opened here. */
    private readonly sessions: Pick<SessionOptions, 'tuning' | 'graphCache'> & { provider: ProviderChoice },
  ) {
    const own = join(baseDir, PREVIEW_DECODER_DIR, 'model.onnx');
    this.path = existsSync(own) ? resolve(own) : null;
  }

  /** Makes `path` the pipeline's preview decoder; false (full decode only) when it cannot be opened. */
  async use(path: string): Promise<boolean> {
    if (resolve(path) === this.path) return true;
    let decoder: VaeDecoder;
    try {
      decoder = new OnnxVaeDecoder(await openSession(path, { tuning: DEFAULT_TUNING, ...this.sessions, label: path }));
    } catch (error) {
      // A broken preview decoder must not cost the user the image: log it, decode in full.
      console.error(`preview decoder ${path} could not be opened, showing the full image only: ${(error as Error).message}`);
      return false;
    }
    // The pipeline releases the decoder it holds when it is released; the one swapped out is ours to release.
    await this.pipeline.replacePreviewDecoder(decoder)?.release();
    this.path = resolve(path);
    return true;
  }

  /** Closes the preview decoder when its graph lies inside `dir` (the model library is about to delete it). */
  async releaseIfUnder(dir: string): Promise<void> {
    if (!this.path || !this.path.startsWith(resolve(dir) + sep)) return;
    await this.pipeline.replacePreviewDecoder(undefined)?.release();
    this.path = null;
  }
}

/**
 * The preview as PNG with Paeth + zlib RLE (the encoder's default, named here because this is where
 * speed matters most: live mode sends a data URL several times a second). RLE is the fastest and,
 * on pictures, also the smallest. npm run bench:png, 512² RGB on this 2-core CPU, median of 5:
 *   natural-like  RLE 17 ms / 302 KiB | level 1 20 ms / 356 KiB | level 6 45 ms / 338 KiB | fast-png (before) 42 ms / 611 KiB
 *   smooth        RLE 14 ms / 155 KiB | level 1 15 ms / 189 KiB | level 6 93 ms / 132 KiB | fast-png (before) 34 ms / 579 KiB
 *   noise         RLE 15 ms / 769 KiB | level 1 28 ms / 769 KiB | level 6 29 ms / 769 KiB | fast-png (before) 33 ms / 769 KiB
 */
export function encodePreview(rgb: Uint8Array, width: number, height: number): Uint8Array {
  return encodePng(rgbPixels(rgb, width, height), { deflate: 'rle' });
}
