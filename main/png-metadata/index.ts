// PNG metadata: what we embed in every image and what we can read back from ours, A1111's and
// ComfyUI's. Writing adds two text chunks after IHDR: `parameters` (A1111 text, so Civitai and
// A1111's PNG Info read our images) and `yoso-studio` (our full JSON).
import type { GenerationRequest } from '../contract/generation.ts';
import { formatA1111Parameters, extractLoraTags, parseA1111Parameters, parseLoraHashes } from './a1111.ts';
import { insertAfterHeader, readChunks } from './chunks.ts';
import { parseComfyPrompt } from './comfyui.ts';
import { textChunk, readTextChunks } from './text-chunks.ts';
import { toGenerationRequest } from './to-request.ts';
import { YOSO_KEYWORD, YosoImageMetadata } from './yoso-json.ts';

export { YosoImageMetadata, YOSO_FORMAT } from './yoso-json.ts';
export { isPng, PngFormatError, stripMetadataChunks } from './chunks.ts';
export { parseA1111Parameters } from './a1111.ts';

export type PngSource = 'yoso' | 'a1111' | 'comfyui';

export interface ParsedPngParameters {
  source: PngSource;
  request: GenerationRequest;
  /** What had to change to make the request runnable here (empty for our own images). */
  warnings: string[];
  model: { name: string; hash: string | null } | null;
  lora: { name: string; hash: string | null; scale: number } | null;
  /** Our full record, when the image is ours. */
  yoso: YosoImageMetadata | null;
}

export class NoParametersError extends Error {
  override name = 'NoParametersError';
  constructor() {
    super('this PNG carries no generation parameters (no A1111 "parameters", ComfyUI "prompt" or YOSO Studio chunk)');
  }
}

const short = (hash: string | null, length: number) => (hash ? hash.slice(0, length) : undefined);

/** The A1111 text for one of our images, with `<lora:id:scale>` in the prompt as A1111 writes it. */
export function a1111TextFor(meta: YosoImageMetadata): string {
  const r = meta.request;
  const prompt = meta.lora ? `${r.prompt} <lora:${meta.lora.id}:${meta.lora.scale}>` : r.prompt;
  return formatA1111Parameters(prompt, r.negativePrompt, [
    ['Steps', r.steps],
    ['Sampler', 'LCM'],
    ['CFG scale', r.guidance],
    ['Seed', meta.seed],
    ['Size', `${r.width}x${r.height}`],
    ['Model hash', short(meta.baseModel.hash, 10)],
    ['Model', meta.baseModel.id],
    ['Lora hashes', meta.lora?.hash ? `${meta.lora.id}: ${short(meta.lora.hash, 12)}` : undefined],
    ['Version', meta.app],
  ]);
}

/** Adds our chunks after IHDR; `parameters: false` keeps an imported file's own A1111 text alone. */
export function embedMetadata(png: Uint8Array, meta: YosoImageMetadata, options: { parameters?: boolean } = {}): Uint8Array {
  const ours = textChunk(YOSO_KEYWORD, JSON.stringify(meta), { compressAbove: 4096 });
  return insertAfterHeader(png, options.parameters === false ? [ours] : [textChunk('parameters', a1111TextFor(meta)), ours]);
}

export function readPngText(png: Uint8Array): Record<string, string> {
  return readTextChunks(readChunks(png));
}

/** Reads the parameters a PNG carries; throws NoParametersError when it has none. */
export function readPngParameters(png: Uint8Array): ParsedPngParameters {
  return parseTextParameters(readPngText(png));
}

export function parseTextParameters(text: Record<string, string>): ParsedPngParameters {
  const ours = text[YOSO_KEYWORD];
  if (ours !== undefined) {
    let json: unknown = null;
    try {
      json = JSON.parse(ours);
    } catch {
      // fall through to the A1111 text, which we also wrote
    }
    const meta = YosoImageMetadata.safeParse(json);
    if (meta.success) {
      const m = meta.data;
      return {
        source: 'yoso',
        request: m.request,
        warnings: [],
        model: { name: m.baseModel.name, hash: m.baseModel.hash },
        lora: m.lora ? { name: m.lora.name, hash: m.lora.hash, scale: m.lora.scale } : null,
        yoso: m,
      };
    }
  }
  const a1111 = text.parameters;
  if (a1111 !== undefined && a1111.trim() !== '') return fromA1111(a1111);
  const comfy = text.prompt === undefined ? null : parseComfyPrompt(text.prompt);
  if (comfy) {
    const warnings: string[] = [];
    if (comfy.batchSize && comfy.batchSize > 1) warnings.push(`batch of ${comfy.batchSize}: the first image's seed is used`);
    const request = toGenerationRequest(
      {
        prompt: comfy.prompt,
        negativePrompt: comfy.negativePrompt,
        seed: comfy.seed,
        steps: comfy.steps,
        guidance: comfy.cfg,
        width: comfy.width,
        height: comfy.height,
        sampler: comfy.sampler,
        model: comfy.checkpoint,
        loras: comfy.loras,
      },
      warnings,
    );
    const lora = comfy.loras[0];
    return {
      source: 'comfyui',
      request,
      warnings,
      model: comfy.checkpoint ? { name: comfy.checkpoint, hash: null } : null,
      lora: lora ? { name: lora.name, hash: null, scale: lora.scale } : null,
      yoso: null,
    };
  }
  throw new NoParametersError();
}

function fromA1111(text: string): ParsedPngParameters {
  const { prompt: rawPrompt, negativePrompt, params } = parseA1111Parameters(text);
  const { prompt, loras } = extractLoraTags(rawPrompt);
  const warnings: string[] = [];
  const number = (key: string) => {
    const v = params[key];
    return v === undefined || v.trim() === '' ? undefined : Number(v);
  };
  const size = /^(\d+)x(\d+)$/.exec(params.Size ?? '');
  if (params['Hires upscale'] || params['Hires resize-1']) warnings.push('hires fix is not available; ignored');
  const request = toGenerationRequest(
    {
      prompt,
      negativePrompt,
      seed: number('Seed'),
      steps: number('Steps'),
      guidance: number('CFG scale'),
      width: size ? Number(size[1]) : undefined,
      height: size ? Number(size[2]) : undefined,
      sampler: params.Sampler,
      model: params.Model,
      loras,
    },
    warnings,
  );
  const hashes = parseLoraHashes(params['Lora hashes']);
  const lora = loras[0];
  return {
    source: 'a1111',
    request,
    warnings,
    model: params.Model || params['Model hash'] ? { name: params.Model ?? '', hash: params['Model hash'] ?? null } : null,
    lora: lora ? { name: lora.name, hash: hashes.get(lora.name) ?? null, scale: lora.scale } : null,
    yoso: null,
  };
}
