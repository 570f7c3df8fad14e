// /sdapi/v1/progress and /sdapi/v1/interrupt over the studio's queue. A1111 has one global state
// (whatever runs, UI or API); so do we: progress reports the running job, studio or A1111. An A1111
// request of n_iter batches is n_iter jobs, reported as A1111's job_no of job_count.
import type { Job } from '../contract/api.ts';
import { jobTimestamp } from './info.ts';
import type { ProgressResponse, ProgressState } from './schemas.ts';
import { isFinished } from '../jobs/queue.ts';

/** The slice of the studio's JobQueue this module needs. */
export interface QueueView {
  list(): Job[];
  cancel(id: string): void;
  on(event: 'updated', listener: (job: Job) => void): unknown;
}

export interface TrackedRequest {
  readonly jobIds: readonly string[];
  interrupted: boolean;
}

const IDLE_STATE: ProgressState = {
  skipped: false,
  interrupted: false,
  stopping_generation: false,
  job: '',
  job_count: 0,
  job_timestamp: '0',
  job_no: 0,
  sampling_step: 0,
  sampling_steps: 0,
};


export class ProgressTracker {
  private readonly requests = new Set<TrackedRequest>();
  /** When each running job started (ms); A1111's time_start. */
  private readonly startedAt = new Map<string, number>();

  constructor(
    private readonly queue: QueueView,
    private readonly now: () => number = Date.now,
  ) {
    queue.on('updated', (job) => {
      if (job.state === 'running' && !this.startedAt.has(job.id)) this.startedAt.set(job.id, this.now());
      if (isFinished(job)) this.startedAt.delete(job.id);
    });
  }

  track(jobIds: readonly string[]): TrackedRequest {
    const request: TrackedRequest = { jobIds, interrupted: false };
    this.requests.add(request);
    return request;
  }

  untrack(request: TrackedRequest): void {
    this.requests.delete(request);
  }

  private requestOf(jobId: string): TrackedRequest | null {
    for (const request of this.requests) if (request.jobIds.includes(jobId)) return request;
    return null;
  }

  progress(): ProgressResponse {
    const running = this.queue.list().find((job) => job.state === 'running');
    if (!running) return { progress: 0, eta_relative: 0, state: { ...IDLE_STATE }, current_image: null, textinfo: null };
    const request = this.requestOf(running.id);
    const jobCount = request ? request.jobIds.length : 1;
    const jobNo = request ? request.jobIds.indexOf(running.id) : 0;
    const firstStart = request ? Math.min(...request.jobIds.map((id) => this.startedAt.get(id) ?? Infinity)) : Infinity;
    const start = Number.isFinite(firstStart) ? firstStart : (this.startedAt.get(running.id) ?? this.now());
    const step = running.progress?.step ?? 0;
    const steps = running.progress?.steps ?? running.request.steps;
    // webui's formula: 1% for having started, then whole jobs, then steps within the current one.
    let progress = 0.01 + jobNo / jobCount;
    if (steps > 0) progress += step / steps / jobCount;
    const elapsed = Math.max(0, (this.now() - start) / 1000);
    const eta = elapsed / progress - elapsed;
    return {
      progress: Math.min(progress, 1),
      eta_relative: Math.max(0, eta),
      state: {
        skipped: false,
        interrupted: request?.interrupted ?? false,
        stopping_generation: false,
        job: request ? 'scripts_txt2img' : `studio ${running.id}`,
        job_count: jobCount,
        job_timestamp: jobTimestamp(new Date(start)),
        job_no: jobNo,
        sampling_step: step,
        sampling_steps: steps,
      },
      current_image: null,
      textinfo: running.progress ? `${running.progress.stage} ${step}/${steps}` : null,
    };
  }

  /**
   * Stops the A1111 request being worked on: the one whose job runs, else (a studio job runs) the
   * first waiting one. Its finished images are kept and returned. Studio jobs are not touched: a
   * remote client may stop its own work, not the person at the desk.
   */
  interrupt(): void {
    const jobs = this.queue.list();
    const running = jobs.find((job) => job.state === 'running');
    const target = (running && this.requestOf(running.id)) ?? this.firstWaiting(jobs);
    if (!target) return;
    target.interrupted = true;
    const byId = new Map(jobs.map((job) => [job.id, job]));
    // Waiting jobs first, so the queue does not start one of them when the running one stops.
    const pending = target.jobIds.filter((id) => byId.get(id)?.state === 'queued');
    const current = target.jobIds.filter((id) => byId.get(id)?.state === 'running');
    for (const id of [...pending, ...current]) this.queue.cancel(id);
  }

  /** A1111's skip: drop the image being made, go on with the request's next batch. */
  skip(): void {
    const running = this.queue.list().find((job) => job.state === 'running');
    if (running && this.requestOf(running.id)) this.queue.cancel(running.id);
  }

  private firstWaiting(jobs: Job[]): TrackedRequest | null {
    for (const job of jobs) {
      if (job.state !== 'queued') continue;
      const request = this.requestOf(job.id);
      if (request) return request;
    }
    return null;
  }
}
