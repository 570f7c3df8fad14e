// The queue is the studio's real JobQueue; its runner is a hand-driven stand-in for the inference
// process so each progress state can be held still and looked at (the client test runs the real one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerationRequest } from '../contract/generation.ts';
import { JobQueue, type JobContext } from '../jobs/index.ts';
import { tinyRequest } from '../test/studio-fixture.ts';
import { ProgressTracker } from './progress.ts';

const request = (seed: number): GenerationRequest => tinyRequest({ seed, steps: 4, prompt: 'x' });

function steppedQueue() {
  const running: Array<{ context: JobContext; finish: () => void }> = [];
  const queue = new JobQueue(
    (_job, context) =>
      new Promise<void>((resolve, reject) => {
        context.signal.addEventListener('abort', () => reject(new Error('cancelled')));
        running.push({ context, finish: resolve });
      }),
  );
  return { queue, running };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('idle: A1111 zero progress, job_count 0 (what clients poll for "ready")', () => {
  const { queue } = steppedQueue();
  const progress = new ProgressTracker(queue).progress();
  assert.equal(progress.progress, 0);
  assert.equal(progress.eta_relative, 0);
  assert.equal(progress.state.job_count, 0);
  assert.equal(progress.current_image, null);
});

test('an n_iter request reports job_no of job_count and steps within the job', async () => {
  const { queue, running } = steppedQueue();
  let now = 1_000_000;
  const tracker = new ProgressTracker(queue, () => now);
  const jobs = queue.enqueue([request(1), request(2)], 'a1111');
  tracker.track(jobs.map((j) => j.id));
  await tick();
  running[0]!.context.onProgress({ stage: 'denoising', step: 2, steps: 4 });
  now += 5000;
  let p = tracker.progress();
  assert.equal(p.state.job_count, 2);
  assert.equal(p.state.job_no, 0);
  assert.equal(p.state.sampling_step, 2);
  assert.equal(p.state.sampling_steps, 4);
  assert.ok(Math.abs(p.progress - (0.01 + 0.25)) < 1e-9);
  assert.ok(p.eta_relative > 0);
  assert.equal(p.state.job, 'scripts_txt2img');
  running[0]!.finish();
  await tick();
  await tick();
  p = tracker.progress();
  assert.equal(p.state.job_no, 1);
  assert.ok(p.progress > 0.5);
  running[1]!.finish();
  await Promise.all(jobs.map((j) => queue.waitFor(j.id)));
  assert.equal(tracker.progress().state.job_count, 0);
});

test('interrupt stops the running A1111 request and its waiting batches, not the studio job behind it', async () => {
  const { queue, running } = steppedQueue();
  const tracker = new ProgressTracker(queue);
  const api = queue.enqueue([request(1), request(2), request(3)], 'a1111');
  const studio = queue.enqueue([request(9)], 'studio');
  tracker.track(api.map((j) => j.id));
  await tick();
  tracker.interrupt();
  assert.equal(tracker.progress().state.interrupted, true);
  const states = await Promise.all(api.map((j) => queue.waitFor(j.id)));
  assert.deepEqual(states.map((j) => j.state), ['cancelled', 'cancelled', 'cancelled']);
  await tick();
  assert.equal(queue.get(studio[0]!.id).state, 'running');
  // A studio job runs and no A1111 request waits: interrupt leaves it alone.
  tracker.interrupt();
  await tick();
  assert.equal(queue.get(studio[0]!.id).state, 'running');
  running.at(-1)!.finish();
  await queue.waitFor(studio[0]!.id);
});

test('while a studio job runs, interrupt drops the first waiting A1111 request', async () => {
  const { queue, running } = steppedQueue();
  const tracker = new ProgressTracker(queue);
  const studio = queue.enqueue([request(9)], 'studio');
  const api = queue.enqueue([request(1)], 'a1111');
  tracker.track(api.map((j) => j.id));
  await tick();
  assert.equal(tracker.progress().state.job, `studio ${studio[0]!.id}`);
  tracker.interrupt();
  assert.equal((await queue.waitFor(api[0]!.id)).state, 'cancelled');
  assert.equal(queue.get(studio[0]!.id).state, 'running');
  running[0]!.finish();
  await queue.waitFor(studio[0]!.id);
});

test('skip drops the running batch of an A1111 request and goes on with the next', async () => {
  const { queue, running } = steppedQueue();
  const tracker = new ProgressTracker(queue);
  const api = queue.enqueue([request(1), request(2)], 'a1111');
  tracker.track(api.map((j) => j.id));
  await tick();
  tracker.skip();
  assert.equal((await queue.waitFor(api[0]!.id)).state, 'cancelled');
  await tick();
  assert.equal(queue.get(api[1]!.id).state, 'running');
  running[1]!.finish();
  assert.equal((await queue.waitFor(api[1]!.id)).state, 'done');
});
