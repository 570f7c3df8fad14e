// Wires the A1111 API to the studio built by openStudio: its queue, its history (for the saved
// PNGs), its settings, and the models the studio can generate with. That is the model library's
// list plus what the generation resolver also accepts (a pipeline folder or a symlink to one, a
// LoRA .safetensors in <models>/loras or <models>): A1111 clients see every model that works.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledModel } from '../contract/api.ts';
import { isPipelineFolder } from '../api/model-resolver.ts';
import type { Studio } from '../api/studio.ts';
import { expandRequests } from '../jobs/index.ts';
import type { A1111Deps } from './api.ts';

async function filesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Models the generation resolver can use that have no library manifest. */
export async function looseModels(modelsDir: string): Promise<InstalledModel[]> {
  const found: InstalledModel[] = [];
  const loose = (id: string, kind: InstalledModel['kind'], path: string): InstalledModel => ({
    id,
    name: id,
    kind,
    path,
    sizeBytes: 0,
    source: 'imported',
    recommended: null,
  });
  for (const name of await filesIn(modelsDir)) {
    if (name.startsWith('.')) continue;
    if (name.endsWith('.safetensors')) found.push(loose(name.slice(0, -'.safetensors'.length), 'lora', name));
    else if (isPipelineFolder(join(modelsDir, name))) found.push(loose(name, 'base', name));
  }
  for (const name of await filesIn(join(modelsDir, 'loras'))) {
    if (name.endsWith('.safetensors')) found.push(loose(name.slice(0, -'.safetensors'.length), 'lora', `loras/${name}`));
  }
  return found;
}

export function a1111DepsFor(studio: Studio): A1111Deps {
  return {
    queue: studio.queue,
    modelsDir: studio.modelsDir,
    settings: () => studio.handlers['settings.get']({}),
    expand: (request, count) => expandRequests(request, count),
    async listModels() {
      const library = await studio.handlers['models.list']({}).catch(() => [] as InstalledModel[]);
      const known = new Set(library.map((m) => `${m.kind}:${m.id}`));
      const extra = (await looseModels(studio.modelsDir)).filter((m) => !known.has(`${m.kind}:${m.id}`));
      return [...library, ...extra].sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
    },
    async readImage(historyId) {
      const item = studio.history.get(historyId);
      if (!item) throw new Error(`history item ${historyId} is gone (deleted while the request ran?)`);
      return new Uint8Array(await readFile(studio.history.absolutePath(item.imagePath)));
    },
  };
}
