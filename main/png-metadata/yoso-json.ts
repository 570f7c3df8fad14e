// Our own metadata chunk (keyword `yoso-studio`, iTXt UTF-8 JSON): everything the history row
// holds, so a PNG copied out of the app and dropped back in (or found without its row at
// reconcile) restores the full entry, not only what the A1111 text can say.
import { z } from 'zod';
import { GenerationRequest } from '../contract/generation.ts';

export const YOSO_KEYWORD = 'yoso-studio';
export const YOSO_FORMAT = 'yoso-studio/1';

const ModelInfo = z.object({ id: z.string().min(1), name: z.string(), hash: z.string().nullable() });

export const YosoImageMetadata = z.object({
  format: z.literal(YOSO_FORMAT),
  /** History id, kept so a re-import restores the same entry. */
  id: z.string().min(1),
  createdAt: z.string(),
  /** The request that makes exactly this image. */
  request: GenerationRequest,
  seed: z.number().int().nonnegative(),
  batch: z.object({ id: z.string(), index: z.number().int().nonnegative(), request: GenerationRequest }),
  baseModel: ModelInfo,
  lora: ModelInfo.extend({ scale: z.number() }).nullable(),
  provider: z.string(),
  timingsMs: z.record(z.string(), z.number()),
  app: z.string(),
});
export type YosoImageMetadata = z.infer<typeof YosoImageMetadata>;
