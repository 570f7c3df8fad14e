// Starts the inference process, routes its messages to the generation that asked, and keeps it
// alive: when the process dies (kill -9, out of memory, a driver fault) the running generation
// fails with a clear error, the status says what happened, and a fresh process starts. Nothing
// saved is lost because images are saved on the main side as each one arrives.
import { EventEmitter } from 'node:events';
import type { InferenceStatus, MemoryMode } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { FromWorker, type ResolvedModels, type ToWorker, type WorkerImage, type WorkerPreview } from './protocol.ts';
import type { ProcessHost, WorkerExit, WorkerProcess } from './process-host.ts';

export type GeneratedImage = WorkerImage;

export interface GenerateCallbacks {
  signal?: AbortSignal;
  onProgress?: (progress: { stage: string; step: number; steps: number }) => void;
  /** Awaited in order: a batch's images are saved one after another as they come. */
  onImage?: (image: GeneratedImage) => void | Promise<void>;
  /** The quick preview of one image of the batch, before its full image (only when models name a preview decoder). */
  onPreview?: (preview: WorkerPreview) => void;
  /** A live preview: only the quick picture comes back (through onPreview), nothing to save. */
  previewOnly?: boolean;
  /** Settings.memory for the worker's sessions (default normal). */
  memory?: MemoryMode;
}

export interface GenerateResult {
  provider: string;
  timingsMs: Record<string, number>;
}

/** The inference process died while a generation was running on it. */
export class InferenceCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferenceCrashedError';
  }
}

export class GenerationCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

export interface SupervisorOptions {
  host: ProcessHost;
  entry: string;
  env?: Record<string, string>;
  /** Restarts within this window count towards maxRestarts; past it the counter resets. */
  restartWindowMs?: number;
  /** Crash loop guard: more restarts than this within the window stop the supervisor. */
  maxRestarts?: number;
  /** A cancelled generation that does not stop within this time gets its process killed. */
  cancelGraceMs?: number;
}

interface Pending {
  callbacks: GenerateCallbacks;
  resolve: (result: GenerateResult) => void;
  reject: (error: Error) => void;
  /** Images are saved in order; 'done' waits for the last save. */
  saving: Promise<void>;
  cancelTimer?: NodeJS.Timeout;
}

type SupervisorEvents = { status: [InferenceStatus] };

export class InferenceSupervisor extends EventEmitter<SupervisorEvents> {
  private worker: WorkerProcess | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<string, Pending>();
  private releaseWaiters: { baseDir: string; resolve: () => void }[] = [];
  private current: InferenceStatus = { state: 'starting', provider: null, message: null };
  private restartTimes: number[] = [];
  private stopped = false;
  private nextId = 1;
  /** Set when we kill the process ourselves, so the status does not call it a crash. */
  private killReason: string | null = null;
  /** Providers the worker reported at its last start. */
  providers: string[] = [];
  /** Milliseconds from spawn to 'ready' of the last start (a figure for the report). */
  lastStartMs: number | null = null;

  constructor(private readonly options: SupervisorOptions) {
    super();
  }

  status(): InferenceStatus {
    return { ...this.current };
  }

  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** Starts the process (once); resolves when it says it is ready. */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the inference supervisor was stopped'));
    this.ready ??= this.spawn();
    return this.ready;
  }

  async generate(
    request: GenerationRequest,
    models: ResolvedModels,
    provider: string,
    callbacks: GenerateCallbacks = {},
  ): Promise<GenerateResult> {
    callbacks.signal?.throwIfAborted();
    await this.start();
    callbacks.signal?.throwIfAborted();
    const worker = this.worker;
    if (!worker) throw new InferenceCrashedError('the inference process is not running');
    const id = `g${this.nextId++}`;
    return new Promise<GenerateResult>((resolve, reject) => {
      const entry: Pending = { callbacks, resolve, reject, saving: Promise.resolve() };
      this.pending.set(id, entry);
      this.setStatus({ state: 'busy', provider: this.current.provider, message: null });
      const onAbort = () => {
        this.post({ type: 'cancel', id });
        // A step that never returns (a hung driver) must not hold the queue forever.
        entry.cancelTimer = setTimeout(() => {
          if (!this.pending.has(id)) return;
          this.killReason = 'The inference process did not stop a cancelled generation in time and was restarted.';
          this.worker?.kill();
        }, this.options.cancelGraceMs ?? 30_000);
      };
      callbacks.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        callbacks.signal?.removeEventListener('abort', onAbort);
        clearTimeout(entry.cancelTimer);
      };
      entry.resolve = (result) => (cleanup(), resolve(result));
      entry.reject = (error) => (cleanup(), reject(error));
      this.post({ type: 'generate', id, request, models, provider, ...(callbacks.previewOnly ? { previewOnly: true } : {}), ...(callbacks.memory ? { memory: callbacks.memory } : {}) });
    });
  }

  /**
   * Asks the worker to load a model (and LoRA) before it is needed; returns once the message is
   * sent. Generations sent later queue behind it in the worker and find the sessions open.
   */
  async prepare(models: ResolvedModels, loraScale: number | null, provider: string, memory?: MemoryMode): Promise<void> {
    await this.start();
    this.post({ type: 'prepare', models, loraScale, provider, ...(memory ? { memory } : {}) });
  }

  /** Asks the worker to drop sessions of a model folder; resolves when it has (or when it has gone). */
  async release(baseDir: string): Promise<void> {
    if (!this.worker || this.current.state === 'crashed') return;
    await this.start();
    if (!this.worker) return;
    // The one message listener set up in spawn() settles these: no listener per call.
    await new Promise<void>((resolve) => {
      this.releaseWaiters.push({ baseDir, resolve });
      this.post({ type: 'release', baseDir });
    });
  }

  /** Settles the release waiters for `baseDir`, or all of them (null) when the process has gone. */
  private settleReleases(baseDir: string | null): void {
    const settled = this.releaseWaiters.filter((w) => baseDir === null || w.baseDir === baseDir);
    this.releaseWaiters = this.releaseWaiters.filter((w) => !settled.includes(w));
    for (const waiter of settled) waiter.resolve();
  }

  /** Kills the process and does not restart it (app quit, server close). */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const gone = new Promise<void>((resolve) => worker.onExit(() => resolve()));
    worker.kill();
    await gone;
  }

  private post(message: ToWorker): void {
    this.worker?.send(message);
  }

  private setStatus(status: InferenceStatus): void {
    this.current = status;
    this.emit('status', this.status());
  }

  private spawn(): Promise<void> {
    const startedAt = performance.now();
    const worker = this.options.host.spawn(this.options.entry, this.options.env ?? {});
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      worker.onMessage((raw) => {
        const parsed = FromWorker.safeParse(raw);
        if (!parsed.success) {
          console.error(`inference process sent an invalid message: ${parsed.error.message}`);
          return;
        }
        const message = parsed.data;
        if (message.type === 'ready') {
          isReady = true;
          this.providers = message.providers;
          this.lastStartMs = performance.now() - startedAt;
          this.setStatus({ state: 'ready', provider: this.current.provider, message: this.current.message });
          resolve();
          return;
        }
        this.route(message);
      });
      worker.onExit((exit) => {
        if (this.worker === worker) this.worker = null;
        this.settleReleases(null);
        if (this.stopped) {
          const stoppedError = new InferenceCrashedError('the inference process was stopped (the app is closing)');
          if (!isReady) reject(stoppedError); // whoever awaits start() must not wait forever
          this.failPending(() => stoppedError);
          return;
        }
        const error = new InferenceCrashedError(this.killReason ?? describeExit(exit));
        this.killReason = null;
        if (!isReady) reject(error);
        this.onCrash(error);
      });
    });
  }

  private route(message: FromWorker): void {
    if (message.type === 'released') return this.settleReleases(message.baseDir);
    if (message.type === 'ready') return;
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.type) {
      case 'progress':
        entry.callbacks.onProgress?.({ stage: message.stage, step: message.step, steps: message.steps });
        return;
      case 'preview': {
        const { id: _id, type: _type, ...preview } = message;
        entry.callbacks.onPreview?.(preview);
        return;
      }
      case 'image': {
        const { id: _id, type: _type, ...image } = message;
        const onImage = entry.callbacks.onImage;
        if (onImage) entry.saving = entry.saving.then(() => onImage(image));
        return;
      }
      case 'done':
      case 'cancelled':
      case 'failed':
        this.pending.delete(message.id);
        if (message.type === 'done') this.current.provider = message.provider;
        if (this.pending.size === 0) this.setStatus({ ...this.current, state: 'ready' });
        // Saves of images that arrived before the end settle first, so the caller sees them all.
        entry.saving.then(
          () => {
            if (message.type === 'done') entry.resolve({ provider: message.provider, timingsMs: message.timingsMs });
            else if (message.type === 'cancelled') entry.reject(new GenerationCancelledError());
            else entry.reject(new Error(message.message));
          },
          (saveError: unknown) => entry.reject(saveError instanceof Error ? saveError : new Error(String(saveError))),
        );
    }
  }

  private failPending(makeError: () => Error): void {
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      const error = makeError();
      // A process killed because a cancel did not stop it counts as a cancel, not a crash.
      const cancelled = entry.callbacks.signal?.aborted;
      entry.saving.then(
        () => entry.reject(cancelled ? new GenerationCancelledError() : error),
        () => entry.reject(error),
      );
    }
  }

  private onCrash(error: InferenceCrashedError): void {
    this.failPending(() => error);
    const now = Date.now();
    const windowMs = this.options.restartWindowMs ?? 60_000;
    this.restartTimes = this.restartTimes.filter((t) => now - t < windowMs);
    if (this.restartTimes.length >= (this.options.maxRestarts ?? 5)) {
      this.ready = Promise.reject(
        new InferenceCrashedError(`${error.message} It crashed ${this.restartTimes.length + 1} times in a minute; restart the app.`),
      );
      this.ready.catch(() => {});
      this.setStatus({ state: 'crashed', provider: null, message: `${error.message} Not restarting: it keeps crashing.` });
      return;
    }
    this.restartTimes.push(now);
    this.setStatus({ state: 'crashed', provider: null, message: error.message });
    this.setStatus({ state: 'restarting', provider: null, message: error.message });
    this.ready = this.spawn();
    // A failed restart goes through onCrash again (its exit), so the rejection is handled there.
    this.ready.catch(() => {});
  }
}

function describeExit(exit: WorkerExit): string {
  const how = exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`;
  const likely = exit.signal === 'SIGKILL' ? ' — often out of memory' : '';
  return `The inference process ${how}${likely}; the running generation was stopped and the process is restarting. Saved images are safe.`;
}
