// The model manager's entry for single-file checkpoints: tells a checkpoint from a LoRA by its keys,
// and writes the built model folder into the manager's staging folder (which it then renames into
// the models folder). Weights are referenced through a hard link where the file system allows.
import { resolve } from 'node:path';
import { deriveSd15Config, type Sd15Config } from '../graph/sd15-config.ts';
import { readConfigOverrides, writeSd15Folder } from './build-sd15.ts';
import { loadCheckpoint } from './load-weights.ts';
import { recogniseSd15 } from './recognise.ts';
import { readSafetensorsHeader } from './safetensors.ts';

const CHECKPOINT_PREFIXES = ['model.diffusion_model.', 'first_stage_model.', 'cond_stage_model.', 'conditioner.'];

/** True when a .safetensors file holds a whole model (original layout) rather than a LoRA. */
export function isCheckpointFile(path: string): boolean {
  for (const key of readSafetensorsHeader(path).tensors.keys()) {
    if (CHECKPOINT_PREFIXES.some((p) => key.startsWith(p))) return true;
  }
  return false;
}

export interface ImportedCheckpoint {
  config: Sd15Config;
  /** Bytes referenced in place (hard link) and bytes written (converted / transposed). */
  referencedBytes: number;
  writtenBytes: number;
  ms: number;
}

/** Recognises (or refuses) the checkpoint, then writes the ONNX model folder into `dir`. */
export function writeCheckpointModelFolder(dir: string, checkpoint: string, opts: { tokenizerDir: string; configDir?: string; log?: (l: string) => void }): ImportedCheckpoint {
  const t0 = performance.now();
  const ck = loadCheckpoint(resolve(checkpoint));
  recogniseSd15(ck.files, ck.weights);
  const config = deriveSd15Config(ck.weights, readConfigOverrides(opts.configDir));
  const { stats } = writeSd15Folder(dir, ck.weights, config, { tokenizerDir: opts.tokenizerDir, referenceWeights: true, log: opts.log ?? (() => {}) });
  const sum = (k: 'referencedBytes' | 'copiedBytes') => Object.values(stats).reduce((a, s) => a + s[k], 0);
  return { config, referencedBytes: sum('referencedBytes'), writtenBytes: sum('copiedBytes'), ms: performance.now() - t0 };
}
