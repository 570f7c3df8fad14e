// Where a --model argument or an imported path can be a checkpoint instead of an ONNX model folder:
// a single-file .safetensors (DreamShaper, ICBINP, Realistic Vision as downloaded) or a diffusers
// PyTorch folder. Those are built into ONNX graphs once and cached by hash in the models folder.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelsDir } from '../util/app-folders.ts';
import { buildSd15FromCheckpoint } from './build-sd15.ts';
import { resolveTokenizerDir } from './tokenizer-source.ts';

export { defaultModelsDir };

/** True for inputs the graph builder handles: .safetensors files and diffusers folders without ONNX graphs. */
export function isCheckpointSource(path: string): boolean {
  if (!existsSync(path)) return false;
  if (statSync(path).isFile()) return /\.safetensors$/i.test(path);
  return !existsSync(join(path, 'unet', 'model.onnx')) && existsSync(join(path, 'unet')) && existsSync(join(path, 'text_encoder'));
}

export interface ModelSourceOptions {
  tokenizer?: string;
  config?: string;
  modelsDir?: string;
  log?: (line: string) => void;
}

/**
 * Returns an ONNX model folder for `path`: the path itself when it is one, otherwise the folder
 * built from the checkpoint (and cached under <models>/built/<sha256 prefix>).
 */
export async function resolveModelSource(path: string, options: ModelSourceOptions = {}): Promise<string> {
  if (/\.(ckpt|pt|pth|bin)$/i.test(path)) {
    throw new Error(`${path} is a pickle checkpoint, which can run code when loaded; convert it to .safetensors (or download the .safetensors version) and use that`);
  }
  if (!isCheckpointSource(path)) return path;
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const built = await buildSd15FromCheckpoint({
    checkpoint: path,
    cacheDir: join(modelsDir, 'built'),
    tokenizerDir: () => resolveTokenizerDir({ tokenizer: options.tokenizer, checkpoint: path, modelsDir }),
    configDir: options.config,
    log: options.log,
  });
  return built.dir;
}
