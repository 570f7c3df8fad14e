// The queue as the UI sees it: jobs.list once, then job.updated events keep it current.
import type { ApiClient, Job } from '../../../main/contract/api.ts';
import type { GenerationRequest } from '../../../main/contract/generation.ts';

export class JobsStore {
  jobs = $state<Job[]>([]);
  /** Jobs still to finish, oldest first (the queue view and the badge). */
  pending = $derived(this.jobs.filter((j) => j.state === 'queued' || j.state === 'running'));
  running = $derived(this.jobs.find((j) => j.state === 'running') ?? null);
  /** The most recent job that ended in failure and was not dismissed (shown under the image). */
  lastFailure = $state<Job | null>(null);

  readonly #api: ApiClient;
  readonly #stop: () => void;

  constructor(api: ApiClient) {
    this.#api = api;
    this.#stop = api.on('job.updated', (job) => this.#upsert(job));
  }

  async load(): Promise<void> {
    const jobs = await this.#api.call('jobs.list', {});
    // Events may have arrived while the list was on its way: keep whichever is newer per job.
    const known = new Map(this.jobs.map((j) => [j.id, j]));
    this.jobs = jobs.map((j) => known.get(j.id) ?? j);
  }

  async enqueue(request: GenerationRequest, count: number): Promise<string[]> {
    const { jobIds } = await this.#api.call('generate.enqueue', { request, count });
    this.lastFailure = null;
    return jobIds;
  }

  async cancel(jobId: string): Promise<void> {
    await this.#api.call('jobs.cancel', { jobId });
  }

  async cancelAll(): Promise<void> {
    await this.#api.call('jobs.cancelAll', {});
  }

  async move(jobId: string, toIndex: number): Promise<void> {
    await this.#api.call('jobs.move', { jobId, toIndex });
    await this.load();
  }

  /** Drops finished jobs from the view (the server keeps its own record). */
  clearFinished(): void {
    this.jobs = this.jobs.filter((j) => j.state === 'queued' || j.state === 'running');
  }

  dispose(): void {
    this.#stop();
  }

  #upsert(job: Job): void {
    const index = this.jobs.findIndex((j) => j.id === job.id);
    if (index === -1) this.jobs = [...this.jobs, job];
    else this.jobs[index] = job;
    if (job.state === 'failed') this.lastFailure = job;
  }
}

/** 0..1 progress of a job for a progress bar: steps of the denoising loop, then decode. */
export function jobFraction(job: Job): number {
  if (job.state === 'done') return 1;
  if (!job.progress || job.progress.steps <= 0) return 0;
  return Math.min(1, Math.max(0, job.progress.step / job.progress.steps));
}
