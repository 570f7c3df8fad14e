// For callers that answer one request with its images (the AUTOMATIC1111-compatible API): put
// jobs in the same queue as the app's (so they wait their turn and show in the UI), then wait
// for them and hand back the saved history items, in order.
import type { Job } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { HistoryItem, HistoryStore } from '../history/index.ts';
import { JobNotFoundError, type JobOrigin, type JobQueue } from './queue.ts';

export interface FinishedJobs {
  jobs: Job[];
  /** Saved images of every job, in job order then batch order (also those of a cancelled job). */
  items: HistoryItem[];
}

export interface EnqueueAndWaitOptions {
  /** Aborted when the client goes away (a closed HTTP connection): its own jobs are cancelled. */
  signal?: AbortSignal;
  /** Called with the jobs as soon as they are queued (progress reporting needs their ids). */
  onQueued?: (jobs: readonly Job[]) => void;
}

/** Thrown when the signal was aborted before anything was queued: nothing ran. */
export class AbandonedBeforeQueuedError extends Error {
  constructor() {
    super('the client went away before its jobs were queued; nothing was generated');
    this.name = 'AbortError';
  }
}

export async function enqueueAndWait(
  queue: JobQueue,
  history: Pick<HistoryStore, 'get'>,
  requests: GenerationRequest[],
  origin: JobOrigin,
  { signal, onQueued }: EnqueueAndWaitOptions = {},
): Promise<FinishedJobs> {
  if (signal?.aborted) throw new AbandonedBeforeQueuedError();
  const created = queue.enqueue(requests, origin);
  onQueued?.(created);
  const onAbort = () => cancelOwnJobs(queue, created);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const jobs = await Promise.all(created.map((job) => queue.waitFor(job.id)));
    const items = jobs.flatMap((job) => job.imageIds.map((id) => history.get(id)).filter((item) => item !== null));
    return { jobs, items };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Cancels these jobs only; one the queue already dropped from its list (finished long ago) is skipped. */
function cancelOwnJobs(queue: JobQueue, jobs: readonly Job[]): void {
  for (const job of jobs) {
    try {
      queue.cancel(job.id);
    } catch (error) {
      // Runs inside an event listener: a throw here would be an uncaught exception.
      if (!(error instanceof JobNotFoundError)) console.error(`cancelling job ${job.id} failed:`, error);
    }
  }
}
