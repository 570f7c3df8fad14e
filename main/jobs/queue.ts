// The job queue: one job on the GPU/CPU at a time, in the order the user set. A failed job keeps
// its error and the queue goes on; a cancelled running job stops between UNet steps and keeps the
// images it already saved.
//
// Jobs live in memory only: like AUTOMATIC1111 and Fooocus, a restart starts with an empty queue
// (what was generated is in the history; what was waiting is one click away via "reuse").
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Job } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';

export type JobOrigin = Job['origin'];

export interface JobContext {
  signal: AbortSignal;
  onProgress(progress: NonNullable<Job['progress']>): void;
  /** The runner calls this after saving each image to the history. */
  onImageSaved(historyId: string): void;
}

/** Runs one job to the end: resolves when done, throws when it failed or was cancelled. */
export type JobRunner = (job: Readonly<Job>, context: JobContext) => Promise<void>;

export class JobNotFoundError extends Error {
  constructor(id: string) {
    super(`no job with id ${id}`);
    this.name = 'JobNotFoundError';
  }
}

export class JobConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobConflictError';
  }
}

type QueueEvents = { updated: [Job] };

const FINISHED_KEPT = 200;
/** A job that will not change state any more. */
export const isFinished = (job: Job): boolean => job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';

export class JobQueue extends EventEmitter<QueueEvents> {
  /** Finished jobs first (oldest first), then the running one, then the waiting ones in order. */
  private jobs: Job[] = [];
  private running: { job: Job; controller: AbortController } | null = null;
  private readonly waiters = new Map<string, ((job: Job) => void)[]>();
  private paused = false;

  constructor(private readonly runner: JobRunner) {
    super();
  }

  list(): Job[] {
    return this.jobs.map(cloneJob);
  }

  get(id: string): Job {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) throw new JobNotFoundError(id);
    return cloneJob(job);
  }

  enqueue(requests: GenerationRequest[], origin: JobOrigin = 'studio'): Job[] {
    const created = requests.map<Job>((request) => ({
      id: randomUUID(),
      state: 'queued',
      request,
      origin,
      createdAt: new Date().toISOString(),
      imageIds: [],
      error: null,
      progress: null,
    }));
    this.jobs.push(...created);
    for (const job of created) this.changed(job);
    this.pump();
    return created.map(cloneJob);
  }

  /** Resolves with the job once it is done, failed or cancelled. */
  waitFor(id: string): Promise<Job> {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) return Promise.reject(new JobNotFoundError(id));
    if (isFinished(job)) return Promise.resolve(cloneJob(job));
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  cancel(id: string): void {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) throw new JobNotFoundError(id);
    if (job.state === 'queued') {
      this.finish(job, 'cancelled', null);
    } else if (job.state === 'running') {
      this.running?.controller.abort();
    }
    // Cancelling a finished job is a no-op: the user's intent already holds.
  }

  cancelAll(): void {
    for (const job of this.jobs.filter((j) => j.state === 'queued')) this.finish(job, 'cancelled', null);
    this.running?.controller.abort();
  }

  /** Moves a waiting job to position `toIndex` among the waiting jobs (0 = next to run). */
  move(id: string, toIndex: number): void {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) throw new JobNotFoundError(id);
    if (job.state !== 'queued') throw new JobConflictError(`job ${id} is ${job.state}; only waiting jobs can be moved`);
    const others = this.jobs.filter((j) => j !== job);
    const waiting = others.filter((j) => j.state === 'queued');
    const target = Math.min(toIndex, waiting.length);
    const before = waiting[target];
    const at = before ? others.indexOf(before) : others.length;
    others.splice(at, 0, job);
    this.jobs = others;
    this.changed(job);
  }

  /** Stops starting new jobs (the running one goes on); used while shutting down. */
  pause(): void {
    this.paused = true;
  }

  /** Waits for the running job to end (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.waitFor(this.running.job.id);
  }

  private pump(): void {
    if (this.running || this.paused) return;
    const next = this.jobs.find((j) => j.state === 'queued');
    if (!next) return;
    const controller = new AbortController();
    this.running = { job: next, controller };
    next.state = 'running';
    next.progress = { stage: 'starting', step: 0, steps: next.request.steps };
    // Running jobs sit after the finished ones, so the list reads top-down as history → now → next.
    this.jobs = [...this.jobs.filter((j) => j !== next && isFinished(j)), next, ...this.jobs.filter((j) => j !== next && !isFinished(j))];
    this.changed(next);
    void this.run(next, controller);
  }

  private async run(job: Job, controller: AbortController): Promise<void> {
    try {
      await this.runner(cloneJob(job), {
        signal: controller.signal,
        onProgress: (progress) => {
          if (job.state !== 'running') return;
          job.progress = { ...progress };
          this.changed(job);
        },
        onImageSaved: (historyId) => {
          job.imageIds.push(historyId);
          this.changed(job);
        },
      });
      if (controller.signal.aborted) this.finish(job, 'cancelled', null);
      else this.finish(job, 'done', null);
    } catch (error) {
      if (controller.signal.aborted) this.finish(job, 'cancelled', null);
      else this.finish(job, 'failed', error instanceof Error ? error.message : String(error));
    } finally {
      this.running = null;
      this.pump();
    }
  }

  private finish(job: Job, state: 'done' | 'failed' | 'cancelled', error: string | null): void {
    job.state = state;
    job.error = error;
    job.progress = null;
    // A finished job moves to the end of the finished block, above the running/waiting ones.
    const rest = this.jobs.filter((j) => j !== job);
    const firstPending = rest.findIndex((j) => !isFinished(j));
    rest.splice(firstPending === -1 ? rest.length : firstPending, 0, job);
    this.jobs = rest;
    this.trimFinished();
    this.changed(job);
    for (const resolve of this.waiters.get(job.id) ?? []) resolve(cloneJob(job));
    this.waiters.delete(job.id);
  }

  private trimFinished(): void {
    const finished = this.jobs.filter(isFinished);
    if (finished.length <= FINISHED_KEPT) return;
    const drop = new Set(finished.slice(0, finished.length - FINISHED_KEPT));
    this.jobs = this.jobs.filter((j) => !drop.has(j));
  }

  private changed(job: Job): void {
    this.emit('updated', cloneJob(job));
  }
}

function cloneJob(job: Job): Job {
  return { ...job, imageIds: [...job.imageIds], progress: job.progress ? { ...job.progress } : null };
}
