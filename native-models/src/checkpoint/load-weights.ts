// Opens a checkpoint (one single-file .safetensors in the original layout, or a diffusers folder)
// and returns its weights under diffusers names. Nothing is read beyond the headers here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ldmLayout, mapLdmKey } from './ldm-keys.ts';
import { readSafetensorsHeader, type SafetensorsFile } from './safetensors.ts';
import { fileWeight, mapWeightTable, type Weight, type WeightTable } from './weights.ts';

export interface LoadedCheckpoint {
  layout: 'single-file' | 'diffusers';
  files: SafetensorsFile[];
  weights: WeightTable;
}

/** VAE attention projections are 1x1 convs [C, C, 1, 1] in the original layout, Linear [C, C] in diffusers. */
function diffusersShape(component: string, key: string, shape: number[]): number[] {
  if (component === 'vae' && /mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/.test(key)) {
    return key.endsWith('.weight') ? shape.slice(0, 2) : [shape[0]!];
  }
  return shape;
}

export function weightsFromSingleFile(file: SafetensorsFile): WeightTable {
  const layout = ldmLayout(file.tensors.keys());
  const map = new Map<string, Weight>();
  for (const [key, entry] of file.tensors) {
    const mapped = mapLdmKey(key, layout);
    if (!mapped) continue;
    map.set(`${mapped.component}.${mapped.key}`, fileWeight(entry, diffusersShape(mapped.component, mapped.key, entry.shape)));
  }
  return mapWeightTable(map);
}

const DIFFUSERS_COMPONENTS: Array<[dir: string, component: string]> = [
  ['unet', 'unet'],
  ['vae', 'vae'],
  ['text_encoder', 'text_encoder'],
];

function pickSafetensors(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  // Prefer full precision when both are present, as diffusers does without a variant.
  const pick = files.find((f) => !f.includes('.fp16.')) ?? files[0];
  return pick ? join(dir, pick) : null;
}

export function loadCheckpoint(path: string): LoadedCheckpoint {
  if (statSync(path).isDirectory()) {
    const files: SafetensorsFile[] = [];
    const map = new Map<string, Weight>();
    for (const [dir, component] of DIFFUSERS_COMPONENTS) {
      const file = pickSafetensors(join(path, dir));
      if (!file) continue;
      const st = readSafetensorsHeader(file);
      files.push(st);
      for (const [key, entry] of st.tensors) map.set(`${component}.${key}`, fileWeight(entry, diffusersShape(component, key, entry.shape)));
    }
    return { layout: 'diffusers', files, weights: mapWeightTable(map) };
  }
  const file = readSafetensorsHeader(path);
  return { layout: 'single-file', files: [file], weights: weightsFromSingleFile(file) };
}
