// Reader for the diffusers reference runs in ../shared/fixtures/tiny-sd15/cases (see its README).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { fixturePath } from './fixtures.ts';

export interface ReferenceCase {
  name: string;
  dir: string;
  json: {
    parameters: {
      prompt: string;
      negative_prompt: string | null;
      guidance_scale: number;
      num_inference_steps: number;
      seed: number;
      num_images_per_prompt: number;
      height: number;
      width: number;
      lora_file: string | null;
    };
    do_classifier_free_guidance: boolean;
    token_ids: { cond: number[]; uncond: number[] | null };
  };
  arrayNames: string[];
  array(name: string): Float32Array;
  /** RGB bytes of image.png (or image_<i>.png for batches). */
  png(file: string): { rgb: Uint8Array; width: number; height: number };
}

/** The generate() request that replays a case: its batches are diffusers' num_images_per_prompt draw. */
export function caseRequest(c: ReferenceCase) {
  const p = c.json.parameters;
  return {
    prompt: p.prompt,
    seed: p.seed,
    steps: p.num_inference_steps,
    guidance: p.guidance_scale,
    width: p.width,
    height: p.height,
    batchSize: p.num_images_per_prompt,
    sharedNoise: true,
  };
}

export function referenceCases(filter: (c: ReferenceCase) => boolean = () => true): ReferenceCase[] {
  const root = fixturePath('tiny-sd15/cases');
  return readdirSync(root)
    .sort()
    .map((name) => loadCase(join(root, name), name))
    .filter(filter);
}

function loadCase(dir: string, name: string): ReferenceCase {
  const json = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
  const arrays = JSON.parse(readFileSync(join(dir, 'arrays.json'), 'utf8')) as Record<string, { file: string }>;
  return {
    name,
    dir,
    json,
    arrayNames: Object.keys(arrays),
    array(arrayName) {
      const entry = arrays[arrayName];
      if (!entry) throw new Error(`case ${name} has no array ${arrayName}`);
      const bytes = readFileSync(join(dir, entry.file));
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    },
    png(file) {
      const img = decode(readFileSync(join(dir, file)));
      if (img.channels !== 3 || img.depth !== 8) throw new Error(`${file}: expected 8-bit RGB`);
      return { rgb: new Uint8Array(img.data as Uint8Array), width: img.width, height: img.height };
    },
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** PSNR of two uint8 images in dB (Infinity when identical). */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`image sizes differ: ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  if (se === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}
