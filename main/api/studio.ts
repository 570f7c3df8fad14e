// Builds the main side once, for every transport: inference supervisor, job queue, settings,
// history and model library, the event bus, and the one Handlers object over them.
// `npm run serve` and the Electron app both call openStudio; only the ProcessHost differs.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Handlers } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { defaultWorkerEntry, type ProcessHost } from '../inference/process-host.ts';
import { InferenceSupervisor } from '../inference/supervisor.ts';
import { prepareHandler } from './prepare-handler.ts';
import { enqueueAndWait, type FinishedJobs } from '../jobs/enqueue-and-wait.ts';
import { createGenerationRunner } from '../jobs/generation-runner.ts';
import { JobQueue, type JobOrigin } from '../jobs/queue.ts';
import { ModelLibrary } from '../models/index.ts';
import { appHandlers } from './app-handlers.ts';
import { EventBus } from './events.ts';
import { exportHandlers } from './export-handlers.ts';
import { historyHandlers } from './history-handlers.ts';
import { jobHandlers } from './job-handlers.ts';
import { modelHandlers } from './model-handlers.ts';
import { ModelResolver } from './model-resolver.ts';
import { SettingsStore } from './settings-store.ts';

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
  /** Queues requests (origin 'a1111' for the compatible API) and resolves with their saved images. */
  enqueueAndWait(requests: GenerationRequest[], origin: JobOrigin, signal?: AbortSignal): Promise<FinishedJobs>;
  /** Cancels what runs, stops the inference process. */
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
  const history = await openHistory({ dataDir });
  const library = new ModelLibrary({ modelsDir });
  const resolver = new ModelResolver(modelsDir, library);
  const supervisor = new InferenceSupervisor({ host: options.host, entry: options.workerEntry ?? defaultWorkerEntry() });
  supervisor.on('status', (status) => events.emit('inference.status', status));

  const runner = createGenerationRunner({
    supervisor,
    resolveModels: (request) => resolver.resolve(request),
    history,
    provider: () => settings.get().provider,
    onSaved: (item) => events.emit('history.added', item),
  });
  const queue = new JobQueue(runner);
  queue.on('updated', (job) => events.emit('job.updated', job));

  const handlers: Handlers = {
    ...appHandlers({ version, dataDir, modelsDir }, supervisor, settings),
    ...jobHandlers(queue),
    ...prepareHandler(resolver, supervisor, () => settings.get().provider),
    ...historyHandlers(history, events),
    ...exportHandlers(history, events),
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
    enqueueAndWait: (requests, origin, signal) => enqueueAndWait(queue, history, requests, origin, signal),
    close: async () => {
      queue.pause();
      queue.cancelAll();
      await supervisor.stop();
      await queue.idle();
      history.close();
    },
  };
}
