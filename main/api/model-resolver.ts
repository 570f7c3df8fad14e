// Request ids → files for the inference process. Installed models come from the model library
// (folders with a manifest). Besides those, any folder in the models folder in the standard
// optimum ONNX layout counts as a base model under its folder name, and `<id>.safetensors` in the
// models folder as a LoRA — symlinks included. That is how tests and first-run users point
// `serve --models DIR` at a model elsewhere without copying it (e.g. DIR/tiny -> tiny-sd15).
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledModel } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { ResolvedJobModels } from '../jobs/generation-runner.ts';
import type { ModelLibrary } from '../models/index.ts';
import { ApiFailure } from './errors.ts';

const REQUIRED = ['unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx'];

export function isPipelineFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && REQUIRED.every((file) => existsSync(join(dir, file)));
  } catch {
    return false;
  }
}

function checkId(id: string, what: string): string {
  if (!/^[\w.-]+$/.test(id) || id === '.' || id === '..') {
    throw new ApiFailure('invalid_input', `${what} id "${id}" may only contain letters, digits, ".", "-" and "_"`);
  }
  return id;
}

/** Standard-layout folders and LoRA files in the models folder that have no manifest. */
export async function looseModels(modelsDir: string, installedIds: Set<string>): Promise<InstalledModel[]> {
  let names: string[];
  try {
    names = await readdir(modelsDir);
  } catch {
    return [];
  }
  const found: InstalledModel[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(modelsDir, name);
    if (!installedIds.has(name) && isPipelineFolder(path)) {
      found.push({ id: name, name, kind: 'base', path: name, sizeBytes: 0, source: 'imported', recommended: null });
    }
    const loraId = name.replace(/\.safetensors$/i, '');
    if (loraId !== name && !installedIds.has(loraId) && statSync(path, { throwIfNoEntry: false })?.isFile()) {
      found.push({ id: loraId, name: loraId, kind: 'lora', path: name, sizeBytes: statSync(path).size, source: 'imported', recommended: null });
    }
  }
  return found;
}

export class ModelResolver {
  constructor(
    private readonly modelsDir: string,
    private readonly library: ModelLibrary,
  ) {}

  async resolve(request: Pick<GenerationRequest, 'baseModelId' | 'lora'>): Promise<ResolvedJobModels> {
    const base = await this.find(checkId(request.baseModelId, 'base model'), 'base');
    if (!base || !isPipelineFolder(base.path)) {
      throw new ApiFailure(
        'not_found',
        `base model "${request.baseModelId}" is not in the models folder ${this.modelsDir}: install it from the catalog, import a folder with ${REQUIRED.join(', ')}, or link one there`,
      );
    }
    let lora: { path: string; name: string } | null = null;
    if (request.lora) {
      lora = await this.find(checkId(request.lora.id, 'LoRA'), 'lora');
      if (!lora) {
        throw new ApiFailure('not_found', `LoRA "${request.lora.id}" is not in the models folder ${this.modelsDir}: import its .safetensors file first`);
      }
    }
    return {
      baseDir: realpathSync(base.path),
      loraPath: lora ? realpathSync(lora.path) : null,
      baseModel: { id: request.baseModelId, name: base.name },
      lora: request.lora && lora ? { id: request.lora.id, name: lora.name } : null,
    };
  }

  private async find(id: string, kind: 'base' | 'lora'): Promise<{ path: string; name: string } | null> {
    const manifest = await this.library.manifest(id).catch(() => null);
    if (manifest && manifest.kind === kind) {
      const path = kind === 'lora' && manifest.mainFile ? join(this.modelsDir, id, manifest.mainFile) : join(this.modelsDir, id);
      return { path, name: manifest.name };
    }
    const loose = kind === 'base' ? join(this.modelsDir, id) : join(this.modelsDir, `${id}.safetensors`);
    return existsSync(loose) ? { path: loose, name: id } : null;
  }
}
