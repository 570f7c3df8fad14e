// A job runner whose jobs end when the test says so, and requests to feed it. The runner is the
// queue's input, not a pipeline; the real pipeline runs in main/api/generation.test.ts.
import type { Job } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { JobContext } from '../jobs/queue.ts';
import { tinyRequest } from './studio-fixture.ts';

export const request = (prompt: string, seed = 1): GenerationRequest => tinyRequest({ prompt, seed, steps: 1, baseModelId: 'm' });

/** Jobs are keyed by prompt: `pending.get(prompt).resolve()` ends one. */
export function manualRunner() {
  const started: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void; context: JobContext }>();
  let running = 0;
  let maxRunning = 0;
  const runner = (job: Readonly<Job>, context: JobContext) =>
    new Promise<void>((resolve, reject) => {
      started.push(job.request.prompt);
      running++;
      maxRunning = Math.max(maxRunning, running);
      const end = () => running--;
      pending.set(job.request.prompt, { resolve: () => (end(), resolve()), reject: (e) => (end(), reject(e)), context });
      context.signal.addEventListener('abort', () => (end(), reject(new Error('aborted'))));
    });
  return { runner, started, pending, maxRunning: () => maxRunning };
}

export const tick = () => new Promise((r) => setImmediate(r));
