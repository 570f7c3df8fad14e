// Wires the A1111 API to the studio built by openStudio: its queue, its history (for the saved
// PNGs), its settings, and models.list (the library plus linked standard-layout folders and loose
// LoRA files), so A1111 clients see every model the studio can generate with.
import { readFile } from 'node:fs/promises';
import type { Studio } from '../api/studio.ts';
import { expandRequests } from '../jobs/index.ts';
import type { A1111Deps } from './api.ts';

export function a1111DepsFor(studio: Studio): A1111Deps {
  return {
    queue: studio.queue,
    modelsDir: studio.modelsDir,
    settings: () => studio.handlers['settings.get']({}),
    listModels: () => studio.handlers['models.list']({}),
    expand: (request, count) => expandRequests(request, count),
    enqueueAndWait: (requests, options) => studio.enqueueAndWait(requests, 'a1111', options),
    readImage: async (item) => new Uint8Array(await readFile(studio.history.absolutePath(item.imagePath))),
  };
}
