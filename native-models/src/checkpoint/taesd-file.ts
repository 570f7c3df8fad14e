// Reads TAESD's published decoder weights (madebyollin/taesd) from a .safetensors file into the weight
// table buildTaesdDecoder takes, and writes the preview decoder graph. Two layouts are published:
//   diffusers' AutoencoderTiny (diffusion_pytorch_model.safetensors): `decoder.layers.N.…`, where the
//     input clamp is done in forward() rather than being module 0, so layer N is taesd.py's N+1;
//   taesd.py's own taesd_decoder.safetensors: `N.…` (N ≥ 1; module 0 is the weightless clamp).
// Only SD 1.5's TAESD fits: the SDXL variant (taesdxl) has the same shapes and can only be told by its
// name, the SD3 / FLUX variants (taesd3, taef1) have 16 latent channels.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildTaesdDecoder, TAESD_CONFIG, TAESD_PREFIX, taesdWeightShapes } from '../graph/taesd-decoder.ts';
import { writeOnnxModel } from '../graph/write-onnx.ts';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.ts';
import { fileWeight, mapWeightTable, type Weight, type WeightTable } from './weights.ts';

export class TaesdFileError extends Error {}

const DIFFUSERS_DECODER = /^decoder\.layers\.(\d+)\.(.+)$/;
const ORIGINAL = /^(\d+)\.(.+)$/;
const SD15_ONLY = "YOSO Studio needs SD 1.5's TAESD: download diffusion_pytorch_model.safetensors from madebyollin/taesd (npm run models -- pull taesd)";

export type TaesdLayout = 'diffusers' | 'original';

/** Which TAESD layout a file's keys are in, or null when they are not TAESD's decoder at all. */
export function taesdLayoutOf(file: SafetensorsFile): TaesdLayout | null {
  const keys = [...file.tensors.keys()];
  if (keys.some((k) => DIFFUSERS_DECODER.test(k))) return 'diffusers';
  // taesd.py's decoder: numbered modules whose first conv (1.weight) reads the latents.
  if (keys.length > 0 && keys.every((k) => ORIGINAL.test(k)) && file.tensors.has('1.weight')) return 'original';
  return null;
}

/** True when a .safetensors file holds a TAESD decoder (either layout), an encoder-only file counts too (refused later). */
export function isTaesdFile(path: string): boolean {
  const file = readSafetensorsHeader(path);
  return taesdLayoutOf(file) !== null || isOriginalEncoder(file) || [...file.tensors.keys()].some((k) => k.startsWith('encoder.layers.'));
}

/** taesd_encoder.safetensors: its first conv (index 0) reads RGB. */
function isOriginalEncoder(file: SafetensorsFile): boolean {
  const first = file.tensors.get('0.weight');
  return first !== undefined && first.shape[1] === 3 && [...file.tensors.keys()].every((k) => ORIGINAL.test(k));
}

/** The decoder's weights under taesd_decoder.pth's names, checked against TAESD's shapes. */
export function readTaesdDecoderWeights(path: string): WeightTable {
  const file = readSafetensorsHeader(path);
  const name = basename(path);
  if (/taesdxl|sdxl/i.test(name)) {
    throw new TaesdFileError(`${name} looks like TAESD for SDXL (taesdxl), which gives wrong colours on SD 1.5 latents. ${SD15_ONLY}.`);
  }
  const layout = taesdLayoutOf(file);
  if (!layout) {
    const what = isOriginalEncoder(file) || [...file.tensors.keys()].some((k) => k.startsWith('encoder.layers.')) ? "TAESD's encoder only" : 'not TAESD';
    throw new TaesdFileError(`${name} is ${what}: no decoder weights (decoder.layers.N… or N.conv.M…) were found. ${SD15_ONLY}.`);
  }
  const weights = new Map<string, Weight>();
  /** taesd.py name -> the file's own key, so messages name what the user's file holds. */
  const fileKeys = new Map<string, string>();
  for (const [key, entry] of file.tensors) {
    const m = layout === 'diffusers' ? DIFFUSERS_DECODER.exec(key) : ORIGINAL.exec(key);
    if (!m) continue; // the encoder's half of diffusers' file
    const index = Number(m[1]) + (layout === 'diffusers' ? 1 : 0);
    weights.set(`${TAESD_PREFIX}${index}.${m[2]}`, fileWeight(entry));
    fileKeys.set(`${index}.${m[2]}`, key);
  }
  const keyOf = (k: string) => fileKeys.get(k) ?? (layout === 'diffusers' ? k.replace(/^(\d+)/, (n) => `decoder.layers.${Number(n) - 1}`) : k);
  checkShapes(name, weights, keyOf);
  return mapWeightTable(weights);
}

function checkShapes(name: string, weights: Map<string, Weight>, keyOf: (key: string) => string): void {
  const latentIn = weights.get(`${TAESD_PREFIX}1.weight`)?.shape[1];
  if (latentIn !== undefined && latentIn !== TAESD_CONFIG.latentChannels) {
    throw new TaesdFileError(
      `${name} is a TAESD for ${latentIn}-channel latents (taesd3 / taef1 for SD3 or FLUX); SD 1.5 latents have ${TAESD_CONFIG.latentChannels} channels. ${SD15_ONLY}.`,
    );
  }
  const problems: string[] = [];
  for (const [key, shape] of taesdWeightShapes()) {
    const got = weights.get(TAESD_PREFIX + key)?.shape;
    if (!got) problems.push(`${keyOf(key)} is missing`);
    else if (got.join(',') !== shape.join(',')) problems.push(`${keyOf(key)} is [${got.join(', ')}], expected [${shape.join(', ')}]`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
    throw new TaesdFileError(`${name} does not have the shapes of SD 1.5's TAESD decoder (${shown}). ${SD15_ONLY}.`);
  }
}

/** Where the built decoder goes inside a model folder (the same place a base model's own TAESD lives). */
export const TAESD_DECODER_FILE = join('taesd_decoder', 'model.onnx');

/** Builds `<dir>/taesd_decoder/model.onnx` (self-contained: weights copied as float32) from a TAESD file. */
export function writeTaesdDecoderFolder(dir: string, taesdFile: string): { path: string; ms: number } {
  const started = performance.now();
  const weights = readTaesdDecoderWeights(taesdFile);
  const out = join(dir, 'taesd_decoder');
  mkdirSync(out, { recursive: true });
  writeOnnxModel(buildTaesdDecoder(weights), out, 'model.onnx', { referenceFiles: false });
  return { path: join(dir, TAESD_DECODER_FILE), ms: performance.now() - started };
}
