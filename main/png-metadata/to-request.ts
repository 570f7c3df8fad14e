// Turns parameters read from a foreign PNG into a request this app can run, saying what changed:
// A1111 and ComfyUI allow 20+ steps, any sampler and any size; YOSO runs LCM in 1-8 steps.
import { DEFAULT_REQUEST, GenerationRequest, RANDOM_SEED_LIMIT } from '../contract/generation.ts';

export interface ForeignParameters {
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  sampler?: string;
  model?: string;
  loras: Array<{ name: string; scale: number }>;
}

export const UNKNOWN_MODEL = 'unknown';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function dimension(value: number | undefined, name: string, warnings: string[]): number {
  if (value === undefined || !Number.isFinite(value)) return DEFAULT_REQUEST.width;
  const fixed = clamp(Math.round(value / 8) * 8, 64, 2048);
  if (fixed !== value) warnings.push(`${name} ${value} changed to ${fixed} (must be a multiple of 8, 64-2048)`);
  return fixed;
}

/** Model names arrive as file names ("v1-5-pruned-emaonly.safetensors"); the library uses the stem. */
export function modelStem(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|onnx)$/i, '');
}

export function toGenerationRequest(p: ForeignParameters, warnings: string[]): GenerationRequest {
  let seed = p.seed;
  if (seed === undefined || !Number.isSafeInteger(seed) || seed < 0) {
    if (seed !== undefined) warnings.push(`seed ${seed} is not usable; a random seed was chosen`);
    else warnings.push('no seed found; a random seed was chosen');
    seed = Math.floor(Math.random() * RANDOM_SEED_LIMIT);
  }
  let steps = p.steps ?? DEFAULT_REQUEST.steps;
  if (!Number.isInteger(steps) || steps < 1 || steps > 8) {
    const fixed = clamp(Math.round(steps) || 1, 1, 8);
    warnings.push(`${steps} steps changed to ${fixed} (YOSO runs 1-8 LCM steps)`);
    steps = fixed;
  }
  let guidance = p.guidance ?? DEFAULT_REQUEST.guidance;
  if (!(guidance >= 0 && guidance <= 30)) {
    const fixed = clamp(Number.isFinite(guidance) ? guidance : 1, 0, 30);
    warnings.push(`guidance ${guidance} changed to ${fixed}`);
    guidance = fixed;
  }
  if (p.sampler && !/^lcm$/i.test(p.sampler.trim())) {
    warnings.push(`sampler "${p.sampler}" is not available; LCM is used`);
  }
  const [lora, ...extraLoras] = p.loras;
  if (extraLoras.length > 0) {
    warnings.push(`only one LoRA is supported; ignored ${extraLoras.map((l) => l.name).join(', ')}`);
  }
  if (!p.model) warnings.push('no base model named; choose one before generating');
  return GenerationRequest.parse({
    ...DEFAULT_REQUEST,
    prompt: p.prompt ?? '',
    negativePrompt: p.negativePrompt ?? '',
    seed,
    steps,
    guidance,
    width: dimension(p.width, 'width', warnings),
    height: dimension(p.height, 'height', warnings),
    baseModelId: p.model ? modelStem(p.model) : UNKNOWN_MODEL,
    lora: lora ? { id: modelStem(lora.name), scale: clamp(lora.scale, -4, 4) } : null,
  });
}
