// Where things live inside the models folder. Staging shares the models folder's file system so
// that installing is one atomic rename; its name starts with a dot so it is never listed.
import { join } from 'node:path';

export const STAGING_DIR = '.downloads';

export function stagingRoot(modelsDir: string): string {
  return join(modelsDir, STAGING_DIR);
}

/** Staging folder of one pull or import (same name as the model id it installs). */
export function stagingDirFor(modelsDir: string, id: string): string {
  return join(stagingRoot(modelsDir), id);
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Turns a repo name or file name into a model id: lowercase, safe for every file system. */
export function toModelId(raw: string): string {
  const id = raw
    .toLowerCase()
    .replace(/\.(safetensors|onnx)$/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 100);
  if (!ID_PATTERN.test(id)) throw new Error(`cannot make a model id from "${raw}": give one with --id`);
  return id;
}

export function assertModelId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new Error(`"${id}" is not a valid model id: use lowercase letters, digits, ".", "_" or "-"`);
  }
}
