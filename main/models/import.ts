// Imports what a user already has: an ONNX pipeline folder (optimum layout) or a LoRA
// .safetensors file. Everything is checked before a byte is copied; the copy goes to the staging
// folder and appears in the models folder with one rename, so a failed import leaves nothing.
import { randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { InstalledModel, ModelKind } from '../contract/api.ts';
import { assertRoomFor, freeBytes } from './disk.ts';
import { folderSize, toInstalledModel } from './list.ts';
import { isCheckpointFile, writeCheckpointModelFolder } from '../../native-models/src/checkpoint/import-checkpoint.ts';
import { resolveTokenizerDir } from '../../native-models/src/checkpoint/tokenizer-source.ts';
import { isTaesdFile, readTaesdDecoderWeights } from '../../native-models/src/checkpoint/taesd-file.ts';
import { checkLoraFile } from './lora-check.ts';
import { buildPreviewDecoder, PREVIEW_DECODER_ID } from './preview-decoder.ts';
import { MANIFEST_FILE, type Manifest } from './manifest.ts';
import { checkOnnxFolder, PIPELINE_FOLDERS, type Inspector } from './onnx-layout.ts';
import { assertModelId, stagingRoot, toModelId } from './paths.ts';
import { ImportError, type ImportOptions } from './types.ts';

/** Opens sessions through the one module that touches onnxruntime, loaded only when needed. */
export const defaultInspector: Inspector = async (path) => {
  const { inspectOnnxModel } = await import('../../native-models/src/onnx/inspect.ts');
  return inspectOnnxModel(path);
};

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** --tokenizer, a local tokenizer/ folder or the cached copy; else (no --tokenizer given) a download. */
async function checkpointTokenizerDir(
  checkpoint: string,
  modelsDir: string,
  options: ImportOptions,
  fetchTokenizer: TokenizerFetcher | null,
): Promise<string> {
  try {
    return resolveTokenizerDir({ tokenizer: options.tokenizer, checkpoint, modelsDir });
  } catch (e) {
    if (options.tokenizer || !fetchTokenizer) throw new ImportError((e as Error).message);
  }
  options.onNote?.('single-file checkpoints carry no tokenizer: downloading the CLIP tokenizer (1.5 MB) once into the models folder');
  try {
    return (await fetchTokenizer()).dir;
  } catch (e) {
    throw new ImportError(`${basename(checkpoint)} carries no tokenizer (single-file checkpoints never do) and ${(e as Error).message}`);
  }
}

async function listFiles(dir: string, prefix = ''): Promise<Array<{ path: string; sizeBytes: number }>> {
  const out: Array<{ path: string; sizeBytes: number }> = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (rel !== MANIFEST_FILE) out.push({ path: rel, sizeBytes: (await stat(join(dir, rel))).size });
  }
  return out;
}

async function pipelineSize(source: string): Promise<number> {
  let total = 0;
  for (const part of ['model_index.json', ...PIPELINE_FOLDERS]) {
    if (await statOrNull(join(source, part))) total += await folderSize(join(source, part));
  }
  return total;
}

/** Gets the shared CLIP tokenizer folder (from the Hub) when no tokenizer is found locally. */
export type TokenizerFetcher = () => Promise<{ dir: string; downloaded: boolean }>;

export async function importModel(
  modelsDir: string,
  sourcePath: string,
  options: ImportOptions = {},
  inspect: Inspector = defaultInspector,
  fetchTokenizer: TokenizerFetcher | null = null,
): Promise<InstalledModel> {
  const source = resolve(sourcePath);
  const info = await statOrNull(source);
  if (!info) throw new ImportError(`${source} does not exist`);

  let kind: ModelKind;
  let mainFile: string | null = null;
  let isCheckpoint = false;
  if (info.isFile()) {
    if (/\.(ckpt|pt|pth|bin)$/i.test(source)) {
      const taesd = /taesd|taef/i.test(basename(source)) ? ' For TAESD, use diffusion_pytorch_model.safetensors from madebyollin/taesd (npm run models -- pull taesd).' : '';
      throw new ImportError(`${basename(source)} is a pickle file; only .safetensors files are imported (pickles can run code).${taesd}`);
    }
    if (/\.onnx$/i.test(source)) {
      throw new ImportError(`${basename(source)} is one ONNX model; import the pipeline folder that holds model_index.json, unet/, text_encoder/ and vae_decoder/`);
    }
    if (!/\.safetensors$/i.test(source)) throw new ImportError(`${basename(source)} is not a .safetensors LoRA or an ONNX folder`);
    let checkpoint: boolean;
    let taesd: boolean;
    try {
      taesd = isTaesdFile(source);
      checkpoint = !taesd && isCheckpointFile(source);
    } catch (e) {
      // A truncated or corrupt header: the user's file is at fault, not the app.
      throw new ImportError((e as Error).message);
    }
    if (taesd) {
      try {
        readTaesdDecoderWeights(source); // refused here, before a byte is copied
      } catch (e) {
        throw new ImportError((e as Error).message);
      }
      kind = 'preview-decoder';
      mainFile = basename(source);
    } else if (checkpoint) {
      kind = 'base'; // a single-file SD 1.5 checkpoint: ONNX graphs are built from it below
      isCheckpoint = true;
    } else {
      await checkLoraFile(source);
      kind = 'lora';
      mainFile = basename(source);
    }
  } else if (info.isDirectory()) {
    const { problems } = await checkOnnxFolder(source, inspect);
    if (problems.length > 0) {
      throw new ImportError(
        `${source} cannot be imported: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`}`,
        problems,
      );
    }
    kind = 'base';
  } else {
    throw new ImportError(`${source} is neither a file nor a folder`);
  }

  const id = options.id ?? (kind === 'preview-decoder' ? PREVIEW_DECODER_ID : toModelId(basename(source)));
  assertModelId(id);
  const target = join(modelsDir, id);
  if ((await statOrNull(target)) && !options.replace) {
    throw new ImportError(`a model with id ${id} is already installed; choose another --id or remove it first`);
  }
  // After the cheap checks: finding no tokenizer may mean a download.
  const checkpointTokenizer = isCheckpoint ? await checkpointTokenizerDir(source, modelsDir, options, fetchTokenizer) : null;

  const staging = join(stagingRoot(modelsDir), `import-${id}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  const needed = kind === 'lora' ? info.size : kind === 'preview-decoder' ? 3 * info.size : await pipelineSize(source);
  try {
    await assertRoomFor(modelsDir, needed, await freeBytes(staging));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new ImportError((error as Error).message.replace('the download needs', 'the copy needs'));
  }
  try {
    if (kind === 'lora') {
      await copyFile(source, join(staging, mainFile!));
    } else if (kind === 'preview-decoder') {
      await copyFile(source, join(staging, mainFile!));
      try {
        mainFile = buildPreviewDecoder(staging, join(staging, mainFile!));
      } catch (e) {
        throw new ImportError(`${basename(source)} cannot be imported: ${(e as Error).message}`);
      }
    } else if (checkpointTokenizer) {
      try {
        writeCheckpointModelFolder(staging, source, { tokenizerDir: checkpointTokenizer, configDir: options.config });
      } catch (e) {
        throw new ImportError(`${basename(source)} cannot be imported: ${(e as Error).message}`);
      }
    } else {
      await copyFile(join(source, 'model_index.json'), join(staging, 'model_index.json'));
      for (const folder of PIPELINE_FOLDERS) {
        if (await statOrNull(join(source, folder))) await cp(join(source, folder), join(staging, folder), { recursive: true });
      }
    }
    const manifest: Manifest = {
      version: 1,
      id,
      name: options.name ?? id,
      kind,
      source: 'imported',
      catalogId: null,
      repo: null,
      revision: null,
      commit: null,
      files: (await listFiles(staging)).map((f) => ({ ...f, sha256: null })),
      mainFile,
      recommended: null,
      installedAt: new Date().toISOString(),
    };
    await writeFile(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    if (options.replace) await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    return toInstalledModel(manifest, await folderSize(target));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
