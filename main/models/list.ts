// Lists installed models: every folder in the models folder with a valid manifest, with its size
// on disk. Staging (.downloads) and stray folders are not models.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledModel } from '../contract/api.ts';
import { readManifest, type Manifest } from './manifest.ts';

export async function folderSize(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    total += await folderSize(join(path, entry.name));
  }
  return total;
}

export function toInstalledModel(manifest: Manifest, sizeBytes: number): InstalledModel {
  return {
    id: manifest.id,
    name: manifest.name,
    kind: manifest.kind,
    path: manifest.mainFile ? `${manifest.id}/${manifest.mainFile}` : manifest.id,
    sizeBytes,
    // The contract knows catalog/imported/checkpoint; a pull of any Hub repo counts as catalog.
    source: manifest.source === 'imported' ? 'imported' : 'catalog',
    recommended: manifest.recommended
      ? { steps: manifest.recommended.steps, guidance: manifest.recommended.guidance }
      : null,
  };
}

export async function listInstalled(modelsDir: string): Promise<InstalledModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const models: InstalledModel[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(modelsDir, entry.name);
    const manifest = await readManifest(dir);
    if (!manifest || manifest.id !== entry.name) continue;
    models.push(toInstalledModel(manifest, await folderSize(dir)));
  }
  return models.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}
