// export.* commands: exports run in the background (they can take minutes for thousands of
// images); progress and the final report arrive as export.updated events.
import { randomUUID } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { ExportReport, Handlers } from '../contract/api.ts';
import { exportImages } from '../export/index.ts';
import type { HistoryStore } from '../history/index.ts';
import { ApiFailure } from './errors.ts';
import type { EventBus } from './events.ts';

/** The exports in flight, so that closing the studio can cancel them and wait for their clean-up. */
export class RunningExports {
  private readonly exports = new Map<string, { controller: AbortController; settled: Promise<void> }>();

  add(id: string, controller: AbortController, finished: Promise<void>): void {
    const settled = finished.then(
      () => {},
      (error: unknown) => console.error(`export ${id}: reporting its end failed:`, error),
    );
    this.exports.set(id, { controller, settled });
    void settled.then(() => this.exports.delete(id));
  }

  cancel(id: string): boolean {
    const running = this.exports.get(id);
    running?.controller.abort();
    return running !== undefined;
  }

  /** Cancels every export; resolves once each has removed what it left half-written and reported. */
  async cancelAll(): Promise<void> {
    const all = [...this.exports.values()];
    for (const running of all) running.controller.abort();
    await Promise.all(all.map((running) => running.settled));
  }
}

export function exportHandlers(
  history: HistoryStore,
  events: EventBus,
  running: RunningExports,
): Pick<Handlers, 'export.start' | 'export.cancel'> {
  return {
    'export.start': async ({ selection, to, nameTemplate, stripMetadata }) => {
      if (!isAbsolute(to)) throw new ApiFailure('invalid_input', `export target "${to}" must be an absolute path on the machine running the studio`);
      const id = randomUUID();
      const controller = new AbortController();
      const report = (patch: Partial<ExportReport>): ExportReport => ({ id, state: 'running', exported: 0, total: 0, error: null, to, ...patch });
      const settled = exportImages(history, {
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
        .then((final) => events.emit('export.updated', final));
      running.add(id, controller, settled);
      return { exportId: id };
    },
    'export.cancel': async ({ exportId }) => {
      if (!running.cancel(exportId)) throw new ApiFailure('not_found', `no export with id ${exportId} is running`);
      return { ok: true };
    },
  };
}
