// export.* commands: exports run in the background (they can take minutes for thousands of
// images); progress and the final report arrive as export.updated events.
import { randomUUID } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { ExportReport, Handlers } from '../contract/api.ts';
import { exportImages } from '../export/index.ts';
import type { HistoryStore } from '../history/index.ts';
import { ApiFailure } from './errors.ts';
import type { EventBus } from './events.ts';

export function exportHandlers(history: HistoryStore, events: EventBus): Pick<Handlers, 'export.start' | 'export.cancel'> {
  const running = new Map<string, AbortController>();
  return {
    'export.start': async ({ selection, to, nameTemplate, stripMetadata }) => {
      if (!isAbsolute(to)) throw new ApiFailure('invalid_input', `export target "${to}" must be an absolute path on the machine running the studio`);
      const id = randomUUID();
      const controller = new AbortController();
      running.set(id, controller);
      const report = (patch: Partial<ExportReport>): ExportReport => ({ id, state: 'running', exported: 0, total: 0, error: null, to, ...patch });
      void exportImages(history, {
        selection,
        to,
        nameTemplate,
        stripMetadata,
        signal: controller.signal,
        onProgress: (p) => events.emit('export.updated', report({ exported: p.done, total: p.total })),
      })
        .then(
          (result) => report({ state: result.state, exported: result.exported.length, total: result.total, error: result.error, to: result.to }),
          (error: unknown) => report({ state: 'failed', error: error instanceof Error ? error.message : String(error) }),
        )
        .then((final) => {
          running.delete(id);
          events.emit('export.updated', final);
        });
      return { exportId: id };
    },
    'export.cancel': async ({ exportId }) => {
      const controller = running.get(exportId);
      if (!controller) throw new ApiFailure('not_found', `no export with id ${exportId} is running`);
      controller.abort();
      return { ok: true };
    },
  };
}
