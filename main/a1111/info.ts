// TextToImageResponse's `info` (A1111's Processed.js(), a JSON string) and `parameters` (the
// request echoed with A1111's defaults filled in). The infotexts are the `parameters` text of the
// very PNGs returned, so the answer, the files and the gallery say the same thing.
import type { Txt2ImgPlan } from './txt2img-plan.ts';
import { TXT2IMG_DEFAULTS, type Txt2ImgRequest } from './schemas.ts';

export interface InfoInput {
  plan: Txt2ImgPlan;
  /** `parameters` text of each returned image, in order. */
  infotexts: string[];
  /** Fields read from the first infotext (Model hash, Version), when there is one. */
  params: Record<string, string>;
  startedAt: Date;
}

/** webui's job_timestamp: local time as YYYYMMDDhhmmss. */
export function jobTimestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

export function buildInfo({ plan, infotexts, params, startedAt }: InfoInput): string {
  const { request, seeds } = plan;
  const all = seeds.length;
  const extra: Record<string, string> = {};
  if (plan.lora) extra['Lora hashes'] = params['Lora hashes'] ?? `${plan.lora.model.id}: unknown`;
  return JSON.stringify({
    prompt: plan.prompt,
    all_prompts: Array.from({ length: all }, () => plan.prompt),
    negative_prompt: request.negativePrompt,
    all_negative_prompts: Array.from({ length: all }, () => request.negativePrompt),
    seed: seeds[0],
    all_seeds: seeds,
    subseed: seeds[0],
    all_subseeds: seeds,
    subseed_strength: 0,
    width: request.width,
    height: request.height,
    sampler_name: 'LCM',
    cfg_scale: request.guidance,
    steps: request.steps,
    batch_size: request.batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: plan.baseModel.id,
    sd_model_hash: params['Model hash'] ?? null,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: null,
    extra_generation_params: extra,
    index_of_first_image: 0,
    infotexts,
    styles: [],
    job_timestamp: jobTimestamp(startedAt),
    clip_skip: 1,
    is_using_inpainting_conditioning: false,
    version: params.Version ?? null,
  });
}

/** A1111 echoes vars(request): every field, the client's values over the defaults. */
export function echoParameters(raw: Record<string, unknown>, parsed: Txt2ImgRequest): Record<string, unknown> {
  const echo: Record<string, unknown> = { ...TXT2IMG_DEFAULTS };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) echo[key] = value;
  }
  // Fields we do not model are echoed as sent, as pydantic keeps declared fields.
  for (const [key, value] of Object.entries(raw)) if (!(key in echo)) echo[key] = value;
  return echo;
}
