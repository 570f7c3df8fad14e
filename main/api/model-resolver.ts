// Request ids → files for the inference process. A base model is a folder in the models folder in
// the standard (optimum ONNX) layout; a symlink to such a folder counts too, which is how tests and
// first-run users point serve at a model elsewhere without copying it.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerationRequest } from '../contract/generation.ts';
import type { ResolvedJobModels } from '../jobs/generation-runner.ts';
import { ApiFailure } from './errors.ts';

const REQUIRED = ['unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx'];
const LORA_EXTENSIONS = ['.safetensors'];

export function isPipelineFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && REQUIRED.every((file) => existsSync(join(dir, file)));
  } catch {
    return false;
  }
}

function safeId(id: string, what: string): string {
  if (!/^[\w.-]+$/.test(id) || id === '.' || id === '..') {
    throw new ApiFailure('invalid_input', `${what} id "${id}" may only contain letters, digits, ".", "-" and "_"`);
  }
  return id;
}

export function resolveModelsIn(modelsDir: string, request: GenerationRequest): ResolvedJobModels {
  const baseDir = join(modelsDir, safeId(request.baseModelId, 'base model'));
  if (!isPipelineFolder(baseDir)) {
    throw new ApiFailure(
      'not_found',
      `base model "${request.baseModelId}" is not in the models folder ${modelsDir}: install it from the catalog or import a folder with ${REQUIRED.join(', ')}`,
    );
  }
  let loraPath: string | null = null;
  if (request.lora) {
    const id = safeId(request.lora.id, 'LoRA');
    const candidates = [
      ...LORA_EXTENSIONS.map((ext) => join(modelsDir, 'loras', `${id}${ext}`)),
      ...LORA_EXTENSIONS.map((ext) => join(modelsDir, `${id}${ext}`)),
      ...LORA_EXTENSIONS.map((ext) => join(modelsDir, id, `${id}${ext}`)),
    ];
    loraPath = candidates.find((path) => existsSync(path)) ?? null;
    if (!loraPath) {
      throw new ApiFailure('not_found', `LoRA "${id}" is not in the models folder ${modelsDir}: import its .safetensors file first`);
    }
    loraPath = realpathSync(loraPath);
  }
  return {
    baseDir: realpathSync(baseDir),
    loraPath,
    baseModel: { id: request.baseModelId, name: request.baseModelId },
    lora: request.lora ? { id: request.lora.id, name: request.lora.id } : null,
  };
}
