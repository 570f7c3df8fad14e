// The generation request as every part of the app sees it: the renderer's form, the job queue,
// the history rows, the PNG metadata, the A1111 API. One schema, validated where data enters.
import { z } from 'zod';

/** Seeds in the app are non-negative safe integers. A1111 draws random seeds below 2^32. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
export const RANDOM_SEED_LIMIT = 2 ** 32;

export const LoraChoice = z.object({
  /** Id of the LoRA in the model library (file name without extension for imported files). */
  id: z.string().min(1),
  /** Strength: 0 gives exactly the base model's image. */
  scale: z.number().min(-4).max(4),
});
export type LoraChoice = z.infer<typeof LoraChoice>;

const dimension = z
  .number()
  .int()
  .min(64, 'must be at least 64 pixels')
  .max(2048, 'must be at most 2048 pixels')
  .refine((v) => v % 8 === 0, 'must be a multiple of 8 (the VAE works on 8x8 pixel blocks)');

export const GenerationRequest = z.object({
  prompt: z.string().max(10_000),
  negativePrompt: z.string().max(10_000).default(''),
  seed: z.number().int().min(0).max(MAX_SEED),
  /** LCM steps: YOSO is made for 1, 2 or 4; up to 8 are allowed. */
  steps: z.number().int().min(1).max(8),
  /** Classifier-free guidance; at or below 1 the UNet runs without the unconditional pass. */
  guidance: z.number().min(0).max(30),
  width: dimension,
  height: dimension,
  /** Images made in one UNet batch; image i uses seed + i unless sharedNoise is set. */
  batchSize: z.number().int().min(1).max(16).default(1),
  /** diffusers' num_images_per_prompt draw: one generator for the whole batch. */
  sharedNoise: z.boolean().default(false),
  /** Id of the base model in the model library. */
  baseModelId: z.string().min(1),
  lora: LoraChoice.nullable().default(null),
  sampler: z.literal('lcm').default('lcm'),
});
export type GenerationRequest = z.infer<typeof GenerationRequest>;
export type GenerationRequestInput = z.input<typeof GenerationRequest>;

/** What YOSO's authors recommend on SD 1.5: one step, no guidance. */
export const DEFAULT_REQUEST: Omit<GenerationRequest, 'baseModelId' | 'prompt' | 'seed'> = {
  negativePrompt: '',
  steps: 1,
  guidance: 1,
  width: 512,
  height: 512,
  batchSize: 1,
  sharedNoise: false,
  lora: null,
  sampler: 'lcm',
};
