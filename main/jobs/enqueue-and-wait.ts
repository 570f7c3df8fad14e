// For callers that answer one request with its images (the AUTOMATIC1111-compatible API): put
// jobs in the same queue as the app's (so they wait their turn and show in the UI), then wait
// for them and hand back the saved history items, in order.
import type { Job } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { HistoryItem, HistoryStore } from '../history/index.ts';
import type { JobOrigin, JobQueue } from './queue.ts';

export interface FinishedJobs {
  jobs: Job[];
  /** Saved images of every job, in job order then batch order (also those of a cancelled job). */
  items: HistoryItem[];
}

export async function enqueueAndWait(
  queue: JobQueue,
  history: HistoryStore,
  requests: GenerationRequest[],
  origin: JobOrigin,
  signal?: AbortSignal,
): Promise<FinishedJobs> {
  const created = queue.enqueue(requests, origin);
  // A client that goes away (closed HTTP connection) cancels its jobs.
  const onAbort = () => {
    for (const job of created) queue.cancel(job.id);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const jobs = await Promise.all(created.map((job) => queue.waitFor(job.id)));
    const items = jobs.flatMap((job) => job.imageIds.map((id) => history.get(id)).filter((item) => item !== null));
    return { jobs, items };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
