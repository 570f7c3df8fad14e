// Builds the main side once, for every transport: inference supervisor, job queue, settings,
// history and model library, the event bus, and the one Handlers object over them.
// `npm run serve` and the Electron app both call createStudio; only the ProcessHost differs.
import { mkdirSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import type { Handlers } from '../contract/api.ts';
import { createGenerationRunner } from '../jobs/generation-runner.ts';
import { JobQueue } from '../jobs/queue.ts';
import type { ProcessHost } from '../inference/process-host.ts';
import { defaultWorkerEntry } from '../inference/process-host.ts';
import { InferenceSupervisor } from '../inference/supervisor.ts';
import { ApiFailure } from './errors.ts';
import { EventBus } from './events.ts';
import { jobHandlers } from './job-handlers.ts';
import { resolveModelsIn } from './model-resolver.ts';
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
  /** Cancels what runs, stops the inference process. */
  close(): Promise<void>;
}

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const unavailable = (what: string) => async (): Promise<never> => {
  throw new ApiFailure('unavailable', `${what} is not available in this build yet`);
};

export function createStudio(options: StudioOptions): Studio {
  const { dataDir, modelsDir } = options;
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(modelsDir, { recursive: true });
  const events = new EventBus();
  const settings = new SettingsStore(dataDir);
  const supervisor = new InferenceSupervisor({ host: options.host, entry: options.workerEntry ?? defaultWorkerEntry() });
  supervisor.on('status', (status) => events.emit('inference.status', status));

  const runner = createGenerationRunner({
    supervisor,
    resolveModels: async (request) => resolveModelsIn(modelsDir, request),
    provider: () => settings.get().provider,
    saveImage: unavailable('the history'),
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
    'history.list': unavailable('the history'),
    'history.get': unavailable('the history'),
    'history.setFavourite': unavailable('the history'),
    'history.delete': unavailable('the history'),
    'history.undoDelete': unavailable('the history'),
    'history.reuse': unavailable('the history'),
    'history.readPngParameters': unavailable('the history'),
    'export.start': unavailable('export'),
    'export.cancel': unavailable('export'),
    'models.list': unavailable('the model library'),
    'models.catalog': unavailable('the model library'),
    'models.pull': unavailable('the model library'),
    'models.pause': unavailable('the model library'),
    'models.resume': unavailable('the model library'),
    'models.cancelPull': unavailable('the model library'),
    'models.import': unavailable('the model library'),
    'models.remove': unavailable('the model library'),
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
    close: async () => {
      queue.pause();
      queue.cancelAll();
      await supervisor.stop();
    },
  };
}
