// Builds the main side once, for every transport: inference supervisor, job queue, settings,
// history and model library, the event bus, and the one Handlers object over them.
// `npm run serve` and the Electron app both call openStudio; only the ProcessHost differs.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Handlers } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { defaultWorkerEntry, type ProcessHost } from '../inference/process-host.ts';
import { GRAPH_CACHE_ENV } from '../inference/protocol.ts';
import { InferenceSupervisor } from '../inference/supervisor.ts';
import { prepareHandler } from './prepare-handler.ts';
import { LivePreview, liveHandler } from './live-preview.ts';
import { enqueueAndWait, type EnqueueAndWaitOptions, type FinishedJobs } from '../jobs/enqueue-and-wait.ts';
import { createGenerationRunner } from '../jobs/generation-runner.ts';
import { JobQueue, type JobOrigin } from '../jobs/queue.ts';
import { ModelLibrary } from '../models/index.ts';
import { appHandlers } from './app-handlers.ts';
import { EventBus } from './events.ts';
import { exportHandlers, RunningExports } from './export-handlers.ts';
import { historyHandlers } from './history-handlers.ts';
import { jobHandlers } from './job-handlers.ts';
import { modelHandlers } from './model-handlers.ts';
import { ModelResolver } from './model-resolver.ts';
import { SettingsStore } from './settings-store.ts';
import { toPreviewEvent } from './preview-event.ts';

export interface StudioOptions {
  dataDir: string;
  modelsDir: string;
  host: ProcessHost;
  /** Shown by app.info; Electron passes app.getVersion(). Default: package.json. */
  version?: string;
  /** Worker entry; defaults to main/inference/worker.ts beside this build. */
  workerEntry?: string;
}

export interface Studio {
  readonly dataDir: string;
  readonly modelsDir: string;
  readonly handlers: Handlers;
  readonly events: EventBus;
  readonly queue: JobQueue;
  readonly supervisor: InferenceSupervisor;
  readonly history: HistoryStore;
  readonly models: ModelLibrary;
  /** Settles when the start-up reconcile of the history is done and announced. */
  readonly reconciled: Promise<void>;
  /** Queues requests (origin 'a1111' for the compatible API) and resolves with their saved images. */
  enqueueAndWait(requests: GenerationRequest[], origin: JobOrigin, options?: EnqueueAndWaitOptions): Promise<FinishedJobs>;
  /** Cancels what runs (jobs and exports, waiting for their clean-up), stops the inference process. */
  close(): Promise<void>;
}

/** The app's version from package.json beside the sources (a bundle passes StudioOptions.version). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function openStudio(options: StudioOptions): Promise<Studio> {
  const { dataDir, modelsDir } = options;
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(modelsDir, { recursive: true });
  const version = options.version ?? packageVersion();
  const events = new EventBus();
  const settings = new SettingsStore(dataDir);
  // Opens at once; the reconcile of files and rows runs meanwhile, so a server can answer (and the
  // UI load) while a large gallery is checked. Its results reach the gallery as history.changed.
  const history = await openHistory({ dataDir, reconcile: 'background' });
  const reconciled = history.reconciled.then(
    (report) => {
      const ids = report ? [...report.reimported, ...report.missing, ...report.found] : [];
      if (ids.length > 0) events.emit('history.changed', { ids });
    },
    (error: unknown) => console.error('history reconcile failed (the gallery may list missing files):', error),
  );
  const library = new ModelLibrary({ modelsDir });
  const resolver = new ModelResolver(modelsDir, library);
  // Models open in ~2 s instead of ~9 s once their optimised graphs are on disk (safe to delete).
  const graphCache = { [GRAPH_CACHE_ENV]: join(dataDir, 'cache', 'onnx-graphs') };
  const supervisor = new InferenceSupervisor({ host: options.host, entry: options.workerEntry ?? defaultWorkerEntry(), env: graphCache });
  supervisor.on('status', (status) => events.emit('inference.status', status));

  const runner = createGenerationRunner({
    supervisor,
    resolveModels: (request, origin) => resolver.resolve(request, { preview: origin === 'studio' && settings.get().preview === 'preview-then-full' }),
    history,
    provider: () => settings.get().provider,
    memory: () => settings.get().memory,
    onSaved: (item) => events.emit('history.added', item),
    onPreview: (jobId, preview) => events.emit('job.preview', toPreviewEvent(jobId, preview)),
  });
  const queue = new JobQueue(runner);
  const live = new LivePreview({ resolver, supervisor, queue, provider: () => settings.get().provider, memory: () => settings.get().memory });
  queue.on('updated', (job) => events.emit('job.updated', job));

  const exports = new RunningExports();
  const handlers: Handlers = {
    ...appHandlers({ version, dataDir, modelsDir }, supervisor, settings),
    ...jobHandlers(queue),
    ...liveHandler(live),
    ...prepareHandler(resolver, supervisor, () => {
      const { provider, preview, memory } = settings.get();
      return { provider, preview: preview === 'preview-then-full', memory };
    }),
    ...historyHandlers(history, events),
    ...exportHandlers(history, events, exports),
    ...modelHandlers(library, supervisor, events),
  };

  // Start the inference process now: its first generation should not pay for the start.
  supervisor.start().catch((error: unknown) => console.error('inference process failed to start:', error));

  return {
    dataDir,
    modelsDir,
    handlers,
    events,
    queue,
    supervisor,
    history,
    models: library,
    reconciled,
    enqueueAndWait: (requests, origin, options) => enqueueAndWait(queue, history, requests, origin, options),
    close: async () => {
      queue.pause();
      queue.cancelAll();
      live.cancel();
      // A cancelled export removes its half-written zip; it must finish that before the history closes.
      await Promise.all([exports.cancelAll(), supervisor.stop()]);
      await queue.idle();
      await reconciled;
      history.close();
    },
  };
}
