// Builds the main side once, for every transport: inference supervisor, job queue, settings,
// history and model library, the event bus, and the one Handlers object over them.
// `npm run serve` and the Electron app both call createStudio; only the ProcessHost differs.
import { mkdirSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import type { Handlers } from '../contract/api.ts';
import { createGenerationRunner } from '../jobs/generation-runner.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { enqueueAndWait, type FinishedJobs } from '../jobs/enqueue-and-wait.ts';
import { JobQueue, type JobOrigin } from '../jobs/queue.ts';
import type { ProcessHost } from '../inference/process-host.ts';
import { defaultWorkerEntry } from '../inference/process-host.ts';
import { InferenceSupervisor } from '../inference/supervisor.ts';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { ApiFailure } from './errors.ts';
import { EventBus } from './events.ts';
import { historyHandlers } from './history-handlers.ts';
import { jobHandlers } from './job-handlers.ts';
import { ModelLibrary } from '../models/index.ts';
import { modelHandlers } from './model-handlers.ts';
import { ModelResolver } from './model-resolver.ts';
import { SettingsStore } from './settings-store.ts';

export interface StudioOptions {
  dataDir: string;
  modelsDir: string;
  host: ProcessHost;
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

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const unavailable = (what: string) => async (): Promise<never> => {
  throw new ApiFailure('unavailable', `${what} is not available in this build yet`);
};

export async function openStudio(options: StudioOptions): Promise<Studio> {
  const { dataDir, modelsDir } = options;
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(modelsDir, { recursive: true });
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
    'app.info': async () => ({
      version,
      dataDir,
      modelsDir,
      platform: process.platform,
      providers: ['auto', ...(['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const).filter((p) => supervisor.providers.includes(p))],
      inference: supervisor.status(),
    }),
    'settings.get': async () => settings.get(),
    'settings.set': async (patch) => settings.set(patch),
    ...jobHandlers(queue),
    ...historyHandlers(history, events),
    'export.start': unavailable('export'),
    'export.cancel': unavailable('export'),
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
