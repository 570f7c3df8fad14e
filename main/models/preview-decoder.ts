// TAESD in the models folder: one preview decoder shared by every SD 1.5 base, installed (pulled or
// imported) as the model `taesd` whose folder holds the downloaded .safetensors and the decoder
// graph built from it at `taesd_decoder/model.onnx`. native-models knows nothing of this layout:
// the main side finds the file here and hands its path to the inference process.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TAESD_DECODER_FILE, writeTaesdDecoderFolder } from '../../native-models/src/checkpoint/taesd-file.ts';
import { readManifest } from './manifest.ts';

/** Catalog id and default import id of TAESD. */
export const PREVIEW_DECODER_ID = 'taesd';
/** The manifest's mainFile of a preview decoder: the graph the worker opens. */
export const PREVIEW_DECODER_MAIN_FILE = TAESD_DECODER_FILE.replaceAll('\\', '/');

/** Builds the decoder graph inside a staging folder from the TAESD file there; throws TaesdFileError for a wrong file. */
export function buildPreviewDecoder(stagingDir: string, taesdFile: string): string {
  writeTaesdDecoderFolder(stagingDir, taesdFile);
  return PREVIEW_DECODER_MAIN_FILE;
}

/**
 * Absolute path of the installed preview decoder's graph: `<models>/taesd/…` when present, else any
 * installed model of kind 'preview-decoder' (imported under another id); null when none is installed.
 */
export async function findPreviewDecoder(modelsDir: string): Promise<string | null> {
  const shared = join(modelsDir, PREVIEW_DECODER_ID, TAESD_DECODER_FILE);
  if (existsSync(shared)) return shared;
  let names: string[];
  try {
    names = await readdir(modelsDir);
  } catch {
    return null;
  }
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const manifest = await readManifest(join(modelsDir, name)).catch(() => null);
    if (manifest?.kind === 'preview-decoder' && manifest.mainFile && existsSync(join(modelsDir, name, manifest.mainFile))) {
      return join(modelsDir, name, manifest.mainFile);
    }
  }
  return null;
}
