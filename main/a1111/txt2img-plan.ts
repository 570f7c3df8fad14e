// One A1111 txt2img body → the studio's GenerationRequest and the facts the answer reports.
// Where A1111 has a default we cannot honour (50 steps, CFG 7, Euler) and the client left the
// field out, the model card's recommendation applies; what the client did send is used as sent,
// or refused with the reason.
import type { InstalledModel } from '../contract/api.ts';
import { DEFAULT_REQUEST, GenerationRequest } from '../contract/generation.ts';
import { A1111HttpError, A1111ValidationError, type ValidationIssue } from './errors.ts';
import { parseLoraPrompt, LoraSyntaxError } from './lora-prompt.ts';
import { findModel, namesOf } from './model-names.ts';
import { resolveSampler } from './samplers.ts';
import type { Txt2ImgRequest } from './schemas.ts';
import { resolveSeed, seedsFor } from './seeds.ts';

export interface PlanContext {
  models: readonly InstalledModel[];
  /** The API's current checkpoint (options.sd_model_checkpoint), a library id or null. */
  checkpoint: string | null;
  /** The studio's default LoRA (YOSO itself, normally): used when the prompt names none. */
  defaultLoraId: string | null;
}

export interface Txt2ImgPlan {
  /** The first batch; the queue makes n_iter jobs from it (seed, seed + batch_size, …). */
  request: GenerationRequest;
  count: number;
  seeds: number[];
  /** The prompt as the client sent it, LoRA tags included (A1111's all_prompts). */
  prompt: string;
  baseModel: InstalledModel;
  lora: { model: InstalledModel; weight: number; fromPrompt: boolean } | null;
  /** Set when override_settings_restore_afterwards is false: the checkpoint stays switched. */
  keepCheckpoint: string | null;
}

function refuse(field: string, msg: string): never {
  throw new A1111ValidationError([{ loc: ['body', field], msg, type: 'value_error' }]);
}

function refuseUnsupported(body: Txt2ImgRequest): void {
  const issues: ValidationIssue[] = [];
  const add = (field: string, msg: string) => issues.push({ loc: ['body', field], msg, type: 'value_error' });
  if (body.enable_hr) add('enable_hr', 'hires fix is not available in YOSO Studio; send enable_hr false and upscale the result');
  if (body.restore_faces) add('restore_faces', 'face restoration is not available in YOSO Studio; send restore_faces false');
  if (body.tiling) add('tiling', 'tiling is not available in YOSO Studio; send tiling false');
  if ((body.subseed_strength ?? 0) !== 0) add('subseed_strength', 'variation seeds are not available; send subseed_strength 0');
  if (body.styles && body.styles.length > 0) add('styles', 'prompt styles are not available; put the style text in the prompt');
  if (issues.length > 0) throw new A1111ValidationError(issues);
  if (body.script_name) throw new A1111HttpError(422, `Script '${body.script_name}' not found`);
  const script = Object.keys(body.alwayson_scripts ?? {})[0];
  if (script !== undefined) throw new A1111HttpError(422, `always on script ${script} not found`);
}

function pickBaseModel(body: Txt2ImgRequest, context: PlanContext): { model: InstalledModel; keep: string | null } {
  const override = body.override_settings?.sd_model_checkpoint;
  if (override !== undefined && typeof override !== 'string') refuse('override_settings', 'sd_model_checkpoint must be a model title or name');
  const wanted = override ?? context.checkpoint;
  if (wanted) {
    const model = findModel(context.models, 'base', wanted);
    if (!model) throw new A1111HttpError(404, `Model not found: "${wanted}". Installed models: ${namesOf(context.models, 'base')}`);
    const keep = override !== undefined && body.override_settings_restore_afterwards === false ? model.id : null;
    return { model, keep };
  }
  const first = context.models.find((m) => m.kind === 'base');
  if (!first) throw new A1111HttpError(404, 'Model not found: no base model is installed; install one with `npm run models` or in the app');
  return { model: first, keep: null };
}

function pickLora(prompt: string, context: PlanContext): { text: string; lora: Txt2ImgPlan['lora'] } {
  let parsed: ReturnType<typeof parseLoraPrompt>;
  try {
    parsed = parseLoraPrompt(prompt);
  } catch (error) {
    if (error instanceof LoraSyntaxError) refuse('prompt', error.message);
    throw error;
  }
  if (parsed.loras.length > 1) {
    refuse('prompt', `YOSO Studio applies one LoRA per image; the prompt names ${parsed.loras.length}: ${parsed.loras.map((l) => l.name).join(', ')}`);
  }
  const tag = parsed.loras[0];
  if (tag) {
    const model = findModel(context.models, 'lora', tag.name);
    if (!model) throw new A1111HttpError(404, `LoRA not found: "${tag.name}". Installed LoRAs: ${namesOf(context.models, 'lora')}`);
    if (Math.abs(tag.weight) > 4) refuse('prompt', `LoRA weight ${tag.weight} is outside -4 to 4`);
    return { text: parsed.text, lora: { model, weight: tag.weight, fromPrompt: true } };
  }
  const fallback = context.defaultLoraId ? findModel(context.models, 'lora', context.defaultLoraId) : null;
  return { text: parsed.text, lora: fallback ? { model: fallback, weight: 1, fromPrompt: false } : null };
}

export function planTxt2Img(body: Txt2ImgRequest, context: PlanContext): Txt2ImgPlan {
  refuseUnsupported(body);
  const sampler = resolveSampler(body.sampler_name ?? body.sampler_index);
  const { model: baseModel, keep } = pickBaseModel(body, context);
  const prompt = body.prompt ?? '';
  const { text, lora } = pickLora(prompt, context);
  const batchSize = body.batch_size ?? 1;
  const count = body.n_iter ?? 1;
  const seed = resolveSeed(body.seed, batchSize * count);
  const recommended = baseModel.recommended ?? lora?.model.recommended ?? null;
  const request = GenerationRequest.parse({
    ...DEFAULT_REQUEST,
    prompt: text,
    negativePrompt: body.negative_prompt ?? '',
    seed,
    steps: body.steps ?? recommended?.steps ?? DEFAULT_REQUEST.steps,
    guidance: body.cfg_scale ?? recommended?.guidance ?? DEFAULT_REQUEST.guidance,
    width: body.width ?? 512,
    height: body.height ?? 512,
    batchSize,
    sharedNoise: false,
    baseModelId: baseModel.id,
    lora: lora ? { id: lora.model.id, scale: lora.weight } : null,
    sampler,
  });
  return { request, count, seeds: seedsFor(seed, batchSize * count), prompt, baseModel, lora, keepCheckpoint: keep };
}
