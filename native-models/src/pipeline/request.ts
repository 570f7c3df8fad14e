/** What a generation takes, validated with messages that say what is wrong and what is allowed. */
import { toU64Seed, type Seed } from '../rng/torch-generator.ts';
import { checkSteps } from '../scheduler/lcm-scheduler.ts';

export type Stage = 'text' | 'unet' | 'preview' | 'vae' | 'png';

/** Which decoders run: the full VAE only, the preview decoder (TAESD) first then the VAE, or the preview only. */
export type DecodeMode = 'full' | 'preview-then-full' | 'preview';
export const DECODE_MODES: readonly DecodeMode[] = ['full', 'preview-then-full', 'preview'];

/** Images decoded by the preview decoder, before the full decoder runs. */
export interface PreviewImages {
  width: number;
  height: number;
  /** One RGB (8 bits per channel) buffer per image of the batch. */
  rgb: Uint8Array[];
}

export interface ProgressEvent {
  stage: Stage;
  /** UNet step (1-based) and the number of steps; for other stages 0 and the step count. */
  step: number;
  totalSteps: number;
  /** With stage 'preview': the preview pictures, sent as soon as they exist. */
  preview?: PreviewImages;
}

/** Tensors of one LCM step, for debugging and numerical checks (--dump, fixture tests). */
export interface StepTrace {
  index: number;
  timestep: number;
  unetSample: Float32Array;
  unetOutput: Float32Array;
  noisePred: Float32Array;
  denoised: Float32Array;
  noise: Float32Array | null;
  latents: Float32Array;
}

export interface GenerateRequest {
  prompt: string;
  /** Default "" (diffusers' None): used only when guidance > 1. */
  negativePrompt?: string;
  /** Unsigned 64-bit. Default: a random seed, reported in the result. */
  seed?: Seed;
  /** LCM steps, 1..8. Default 1 (YOSO). */
  steps?: number;
  /** Classifier-free guidance scale; > 1 runs the unconditional pass. Default 1. */
  guidance?: number;
  width?: number;
  height?: number;
  /** Images in one UNet batch. Default 1. */
  batchSize?: number;
  /** diffusers' num_images_per_prompt draw (one generator for the batch) instead of seed+i per image. */
  sharedNoise?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * The preview pictures, awaited before the full decoder starts: the full decoder's run() holds the
   * thread, so a caller that must get the preview out of the process (IPC) does so here.
   */
  onPreview?: (preview: PreviewImages) => void | Promise<void>;
  onStep?: (trace: StepTrace) => void;
  /**
   * The final latents of an earlier run of exactly these settings (model, LoRA, prompt, seed, steps,
   * guidance, size): the UNet steps are skipped and only the decoders run, giving that run's image.
   * The caller vouches for the match (the app reuses a live preview's latents for the Generate after it).
   */
  finalLatents?: Float32Array;
  /** Default 'full'; the preview modes need a preview decoder (taesd_decoder) in the pipeline. */
  decode?: DecodeMode;
  /** Encode PNGs (default true); the text chunks may depend on the image (its seed). */
  png?: boolean | { text?: Record<string, string> | ((image: { seed: bigint; index: number }) => Record<string, string>) };
}

export interface ResolvedRequest {
  prompt: string;
  negativePrompt: string;
  seed: bigint;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  batchSize: number;
  sharedNoise: boolean;
  decode: DecodeMode;
}

export const MAX_BATCH = 16;
export const MAX_SIDE = 2048;

export function randomSeed(): bigint {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  // Keep random seeds within 2^53 so they survive JSON and A1111 metadata as plain numbers.
  return (BigInt(words[0]! & 0x1fffff) << 32n) | BigInt(words[1]!);
}

export function resolveRequest(req: GenerateRequest, sizeMultiple: number): ResolvedRequest {
  if (typeof req.prompt !== 'string') throw new TypeError('prompt must be a string');
  const steps = req.steps ?? 1;
  checkSteps(steps);
  const guidance = req.guidance ?? 1;
  if (!Number.isFinite(guidance) || guidance < 0 || guidance > 30) {
    throw new RangeError(`guidance must be a number from 0 to 30 (got ${guidance})`);
  }
  const batchSize = req.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new RangeError(`batch size must be an integer from 1 to ${MAX_BATCH} (got ${batchSize})`);
  }
  const width = req.width ?? 512;
  const height = req.height ?? 512;
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < sizeMultiple || value > MAX_SIDE || value % sizeMultiple !== 0) {
      throw new RangeError(`${name} must be a multiple of ${sizeMultiple} from ${sizeMultiple} to ${MAX_SIDE} (got ${value})`);
    }
  }
  return {
    prompt: req.prompt,
    negativePrompt: req.negativePrompt ?? '',
    seed: req.seed === undefined ? randomSeed() : toU64Seed(req.seed),
    steps,
    guidance,
    width,
    height,
    batchSize,
    sharedNoise: req.sharedNoise ?? false,
    decode: resolveDecode(req.decode),
  };
}

function resolveDecode(decode: DecodeMode | undefined): DecodeMode {
  if (decode === undefined) return 'full';
  if (!DECODE_MODES.includes(decode)) throw new RangeError(`decode must be one of ${DECODE_MODES.join(', ')} (got ${String(decode)})`);
  return decode;
}
