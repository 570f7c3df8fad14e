// The last live picture's final latents, kept in the inference process: a Generate with exactly
// those settings (the user liked the live picture and pressed Generate) decodes them instead of
// running the UNet again. The same settings give the same latents, so the image is the one a fresh
// run makes; the key holds everything the latents depend on.
import { statSync } from 'node:fs';
import type { GenerationRequest } from '../contract/generation.ts';
import type { ResolvedModels } from './protocol.ts';

export function liveKey(models: ResolvedModels, request: GenerationRequest): string | null {
  if (request.batchSize !== 1) return null;
  let loraVersion: number | null = null;
  if (models.loraPath && request.lora) {
    try {
      loraVersion = statSync(models.loraPath).mtimeMs;
    } catch {
      return null;
    }
  }
  const { prompt, negativePrompt, seed, steps, guidance, width, height, sharedNoise } = request;
  return JSON.stringify({
    base: models.baseDir,
    lora: models.loraPath && request.lora ? [models.loraPath, loraVersion, request.lora.scale] : null,
    prompt,
    negativePrompt,
    seed,
    steps,
    guidance,
    width,
    height,
    sharedNoise,
  });
}

export class LiveLatents {
  #last: { key: string; latents: Float32Array } | null = null;

  remember(key: string | null, latents: Float32Array): void {
    this.#last = key === null ? null : { key, latents };
  }

  /** The kept latents when `key` names the same settings. */
  find(key: string | null): Float32Array | undefined {
    return key !== null && this.#last?.key === key ? this.#last.latents : undefined;
  }

  clear(): void {
    this.#last = null;
  }
}
