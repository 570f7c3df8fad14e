// models.* commands: the model library behind the contract, plus loose model folders (see
// model-resolver.ts) in models.list so a linked folder can be picked in the UI.
import { join } from 'node:path';
import type { DownloadState, Handlers } from '../contract/api.ts';
import type { InferenceSupervisor } from '../inference/supervisor.ts';
import type { ModelLibrary, PullProgress } from '../models/index.ts';
import { ApiFailure } from './errors.ts';
import type { EventBus } from './events.ts';
import { looseModels } from './model-resolver.ts';

type ModelCommands =
  | 'models.list'
  | 'models.catalog'
  | 'models.pull'
  | 'models.pause'
  | 'models.resume'
  | 'models.cancelPull'
  | 'models.import'
  | 'models.remove';

function toDownloadState(p: PullProgress): DownloadState {
  const { id, catalogId, state, receivedBytes, totalBytes, bytesPerSecond, error } = p;
  return { id, catalogId, state, receivedBytes, totalBytes, bytesPerSecond, error };
}

export function modelHandlers(
  library: ModelLibrary,
  supervisor: InferenceSupervisor,
  events: EventBus,
): Pick<Handlers, ModelCommands> {
  library.onProgress((progress) => events.emit('download.updated', toDownloadState(progress)));
  // ONNX Runtime may keep model files mapped: release the worker's sessions before deleting.
  library.onBeforeRemove((model) => supervisor.release(join(library.modelsDir, model.id)));

  const pullOf = (downloadId: string) => {
    const pull = library.getPull(downloadId);
    if (!pull) throw new ApiFailure('not_found', `no download with id ${downloadId} is running`);
    return pull;
  };

  return {
    'models.list': async () => {
      const installed = await library.list();
      return [...installed, ...(await looseModels(library.modelsDir, new Set(installed.map((m) => m.id))))];
    },
    'models.catalog': async () => library.catalog(),
    'models.pull': async ({ catalogId }) => {
      const pull = library.pull({ catalogId });
      // Failure reaches the UI as a 'failed' download.updated event; nothing awaits `done` here.
      pull.done.catch(() => {});
      return { downloadId: pull.id };
    },
    'models.pause': async ({ downloadId }) => {
      pullOf(downloadId).pause();
      return { ok: true };
    },
    'models.resume': async ({ downloadId }) => {
      const pull = library.getPull(downloadId) ?? (await library.resumePending(downloadId));
      pull.resume();
      pull.done.catch(() => {});
      return { ok: true };
    },
    'models.cancelPull': async ({ downloadId }) => {
      pullOf(downloadId).cancel();
      return { ok: true };
    },
    'models.import': async ({ path }) => library.importPath(path),
    'models.remove': async ({ id }) => {
      if (!(await library.list()).some((m) => m.id === id)) {
        throw new ApiFailure('not_found', `no installed model with id ${id} (a linked folder is removed by deleting the link)`);
      }
      await library.remove(id, { confirm: true });
      return { ok: true };
    },
  };
}
