// Every installed model is a folder `<modelsDir>/<id>/` holding its files and this manifest.
// The manifest is written last (inside the staging folder, before the one rename that installs
// the model), so a folder with a valid manifest is always complete.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelKind } from '../contract/api.ts';
import { Recommended } from './catalog-schema.ts';

export const MANIFEST_FILE = 'yoso-model.json';

export const ManifestFile = z.object({
  path: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
});

export const Manifest = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  name: z.string().min(1),
  kind: ModelKind,
  source: z.enum(['catalog', 'hub', 'imported']),
  catalogId: z.string().nullable(),
  repo: z.string().nullable(),
  revision: z.string().nullable(),
  /** The commit the Hub resolved the revision to (X-Repo-Commit). */
  commit: z.string().nullable(),
  files: z.array(ManifestFile),
  /** For a LoRA: the .safetensors file (relative to the model folder). */
  mainFile: z.string().nullable(),
  recommended: Recommended.nullable(),
  installedAt: z.string(),
});
export type Manifest = z.infer<typeof Manifest>;

export async function readManifest(modelDir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(modelDir, MANIFEST_FILE), 'utf8');
  } catch {
    return null;
  }
  const parsed = Manifest.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}
