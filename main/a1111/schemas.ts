// A1111's request and response shapes (modules/api/models.py), with A1111's defaults. Like
// pydantic there: unknown fields are ignored, `null` means "use the default", numbers may arrive
// as numeric strings. Our limits (YOSO's steps, sizes in multiples of 8) carry their reason.
import { z } from 'zod';
import { NOT_AN_INTEGER } from './errors.ts';

/** pydantic v1 coerces "5" to 5; fields are Optional, so null is the default. */
function numeric(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return value;
}
const nullIsDefault = (value: unknown) => (value === null ? undefined : value);

const int = () => z.number({ error: NOT_AN_INTEGER }).int({ error: NOT_AN_INTEGER });
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(numeric, schema.optional());
const text = () => z.preprocess(nullIsDefault, z.string().max(10_000).optional());
const flag = () => z.preprocess(nullIsDefault, z.boolean().optional());

const dimension = int()
  .min(64, 'images are at least 64 pixels wide and high')
  .max(2048, 'images are at most 2048 pixels wide and high')
  .refine((v) => v % 8 === 0, 'must be a multiple of 8 (the VAE works on 8x8 pixel blocks)');

/** StableDiffusionTxt2ImgProcessingAPI: the fields we honour, check or knowingly ignore. */
export const Txt2ImgRequest = z.object({
  prompt: text(),
  negative_prompt: text(),
  styles: z.preprocess(nullIsDefault, z.array(z.string()).optional()),
  seed: optional(int().min(-1, 'use -1 for a random seed')),
  subseed: optional(int()),
  subseed_strength: optional(z.number()),
  seed_resize_from_h: optional(int()),
  seed_resize_from_w: optional(int()),
  sampler_name: text(),
  sampler_index: text(),
  scheduler: text(),
  batch_size: optional(int().min(1).max(16, 'at most 16 images per batch')),
  n_iter: optional(int().min(1).max(100, 'at most 100 batches per request')),
  steps: optional(
    int().min(1).max(8, 'YOSO makes images in 1, 2 or 4 LCM steps; up to 8 are allowed'),
  ),
  cfg_scale: optional(z.number().min(0).max(30, 'guidance above 30 burns the image; YOSO works best at 1 to 2')),
  width: optional(dimension),
  height: optional(dimension),
  restore_faces: flag(),
  tiling: flag(),
  enable_hr: flag(),
  denoising_strength: optional(z.number()),
  eta: optional(z.number()),
  override_settings: z.preprocess(nullIsDefault, z.record(z.string(), z.unknown()).optional()),
  override_settings_restore_afterwards: flag(),
  script_name: text(),
  script_args: z.preprocess(nullIsDefault, z.array(z.unknown()).optional()),
  alwayson_scripts: z.preprocess(nullIsDefault, z.record(z.string(), z.unknown()).optional()),
  send_images: flag(),
  save_images: flag(),
  do_not_save_samples: flag(),
  do_not_save_grid: flag(),
  force_task_id: text(),
});
export type Txt2ImgRequest = z.output<typeof Txt2ImgRequest>;

/** The echo in TextToImageResponse.parameters: A1111's defaults for what the client left out. */
export const TXT2IMG_DEFAULTS = {
  prompt: '',
  negative_prompt: '',
  styles: [] as string[],
  seed: -1,
  subseed: -1,
  subseed_strength: 0,
  seed_resize_from_h: -1,
  seed_resize_from_w: -1,
  sampler_name: null as string | null,
  sampler_index: 'Euler',
  batch_size: 1,
  n_iter: 1,
  steps: 50,
  cfg_scale: 7,
  width: 512,
  height: 512,
  restore_faces: null as boolean | null,
  tiling: null as boolean | null,
  do_not_save_samples: false,
  do_not_save_grid: false,
  eta: null as number | null,
  denoising_strength: null as number | null,
  override_settings: {} as Record<string, unknown>,
  override_settings_restore_afterwards: true,
  enable_hr: false,
  script_name: null as string | null,
  script_args: [] as unknown[],
  send_images: true,
  save_images: false,
  alwayson_scripts: {} as Record<string, unknown>,
};

export const PngInfoRequest = z.object({
  image: z.string({ error: 'the base64 encoded PNG image' }).max(64 * 1024 * 1024),
});

/** POST /sdapi/v1/options: any keys (A1111 stores them all), a few with known types. */
export const OptionsPatch = z.record(z.string(), z.unknown());

export interface TextToImageResponse {
  images: string[];
  parameters: Record<string, unknown>;
  info: string;
}

export interface ProgressState {
  skipped: boolean;
  interrupted: boolean;
  stopping_generation: boolean;
  job: string;
  job_count: number;
  job_timestamp: string;
  job_no: number;
  sampling_step: number;
  sampling_steps: number;
}

export interface ProgressResponse {
  progress: number;
  eta_relative: number;
  state: ProgressState;
  current_image: string | null;
  textinfo: string | null;
}

export interface PngInfoResponse {
  info: string;
  items: Record<string, string>;
  parameters: Record<string, string>;
}

export interface SdModelItem {
  title: string;
  model_name: string;
  hash: string | null;
  sha256: string | null;
  filename: string;
  config: string | null;
}

export interface LoraItem {
  name: string;
  alias: string;
  path: string;
  metadata: Record<string, unknown>;
}
