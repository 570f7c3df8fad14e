// Request ids → files for the inference process. Installed models come from the model library
// (folders with a manifest). Besides those, any folder in the models folder in the standard
// optimum ONNX layout counts as a base model under its folder name, and `<id>.safetensors` in the
// models folder as a LoRA — symlinks included. That is how tests and first-run users point
// `serve --models DIR` at a model elsewhere without copying it (e.g. DIR/tiny -> tiny-sd15).
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledModel } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { ResolvedJobModels } from '../jobs/generation-runner.ts';
import type { ModelLibrary } from '../models/index.ts';
import { findPreviewDecoder } from '../models/preview-decoder.ts';
import { PREVIEW_DECODER_DIR } from '../../native-models/src/pipeline/pipeline.ts';
import { ApiFailure } from './errors.ts';

const REQUIRED = ['unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx'];

// All checks here are async: they run per generation and per models.list, on the server's event loop.
const exists = (path: string) => access(path).then(() => true, () => false);
const statOrNull = (path: string) => stat(path).catch(() => null);

export async function isPipelineFolder(dir: string): Promise<boolean> {
  if (!(await statOrNull(dir))?.isDirectory()) return false;
  const present = await Promise.all(REQUIRED.map((file) => exists(join(dir, file))));
  return present.every(Boolean);
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
  const perName = await Promise.all(
    names
      .filter((name) => !name.startsWith('.'))
      .sort()
      .map(async (name): Promise<InstalledModel[]> => {
        const path = join(modelsDir, name);
        const found: InstalledModel[] = [];
        if (!installedIds.has(name) && (await isPipelineFolder(path))) {
          found.push({ id: name, name, kind: 'base', path: name, sizeBytes: 0, source: 'imported', recommended: null });
        }
        const loraId = name.replace(/\.safetensors$/i, '');
        const file = loraId !== name && !installedIds.has(loraId) ? await statOrNull(path) : null;
        if (file?.isFile()) {
          found.push({ id: loraId, name: loraId, kind: 'lora', path: name, sizeBytes: file.size, source: 'imported', recommended: null });
        }
        return found;
      }),
  );
  return perName.flat();
}

export class ModelResolver {
  constructor(
    private readonly modelsDir: string,
    private readonly library: ModelLibrary,
  ) {}

  /** `preview`: find a preview decoder (the base's own taesd_decoder/, else the shared TAESD) for a quick preview. */
  async resolve(request: Pick<GenerationRequest, 'baseModelId' | 'lora'>, options: { preview?: boolean } = {}): Promise<ResolvedJobModels> {
    const base = await this.find(checkId(request.baseModelId, 'base model'), 'base');
    if (!base || !(await isPipelineFolder(base.path))) {
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
    const baseDir = await realpath(base.path);
    return {
      baseDir,
      loraPath: lora ? await realpath(lora.path) : null,
      previewDecoderPath: options.preview ? await this.previewDecoder(baseDir) : null,
      baseModel: { id: request.baseModelId, name: base.name },
      lora: request.lora && lora ? { id: request.lora.id, name: lora.name } : null,
    };
  }

  private async previewDecoder(baseDir: string): Promise<string | null> {
    const own = join(baseDir, PREVIEW_DECODER_DIR, 'model.onnx');
    return (await exists(own)) ? own : findPreviewDecoder(this.modelsDir);
  }

  private async find(id: string, kind: 'base' | 'lora'): Promise<{ path: string; name: string } | null> {
    const manifest = await this.library.manifest(id).catch(() => null);
    if (manifest && manifest.kind === kind) {
      const path = kind === 'lora' && manifest.mainFile ? join(this.modelsDir, id, manifest.mainFile) : join(this.modelsDir, id);
      return { path, name: manifest.name };
    }
    const loose = kind === 'base' ? join(this.modelsDir, id) : join(this.modelsDir, `${id}.safetensors`);
    return (await exists(loose)) ? { path: loose, name: id } : null;
  }
}
