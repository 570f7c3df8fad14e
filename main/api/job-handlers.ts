// generate.* and jobs.* commands: the queue behind the contract.
import type { Handlers } from '../contract/api.ts';
import { expandRequests } from '../jobs/expand.ts';
import type { JobQueue } from '../jobs/queue.ts';

type JobCommands = 'generate.enqueue' | 'jobs.list' | 'jobs.cancel' | 'jobs.cancelAll' | 'jobs.move';

export function jobHandlers(queue: JobQueue): Pick<Handlers, JobCommands> {
  return {
    'generate.enqueue': async ({ request, count, prompts }) => {
      const jobs = queue.enqueue(expandRequests(request, count, prompts), 'studio');
      return { jobIds: jobs.map((job) => job.id) };
    },
    'jobs.list': async () => queue.list(),
    'jobs.cancel': async ({ jobId }) => {
      queue.cancel(jobId);
      return { ok: true };
    },
    'jobs.cancelAll': async () => {
      queue.cancelAll();
      return { ok: true };
    },
    'jobs.move': async ({ jobId, toIndex }) => {
      queue.move(jobId, toIndex);
      return { ok: true };
    },
  };
}
