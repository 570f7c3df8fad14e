// The queue's bookkeeping on its own: order, reorder, one at a time, cancel of waiting and running
// jobs, errors kept. The runner is one the test releases job by job (main/test/manual-runner.ts);
// the same behaviours run end to end on the real tiny pipeline in main/api/generation.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '../contract/api.ts';
import { manualRunner, request, tick } from '../test/manual-runner.ts';
import { expandRequests, parsePromptList } from './expand.ts';
import { JobQueue } from './queue.ts';

test('jobs run one at a time in queue order; move reorders the waiting ones', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const [a, b, c, d] = queue.enqueue(['a', 'b', 'c', 'd'].map((p) => request(p)));
  assert.deepEqual(m.started, ['a']);
  queue.move(d!.id, 0);
  queue.move(b!.id, 5);
  assert.deepEqual(queue.list().map((j) => j.request.prompt), ['a', 'd', 'c', 'b']);
  assert.throws(() => queue.move(a!.id, 0), /only waiting jobs/);
  for (const next of ['a', 'd', 'c', 'b']) {
    m.pending.get(next)!.resolve();
    await tick();
  }
  assert.deepEqual(m.started, ['a', 'd', 'c', 'b']);
  assert.equal(m.maxRunning(), 1);
  assert.deepEqual(queue.list().map((j) => j.state), ['done', 'done', 'done', 'done']);
  assert.equal(queue.get(c!.id).state, 'done');
});

test('a failed job keeps its error and the next one runs', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const [a, b] = queue.enqueue([request('a'), request('b')]);
  m.pending.get('a')!.reject(new Error('the model folder is gone'));
  await tick();
  assert.deepEqual(m.started, ['a', 'b']);
  assert.equal(queue.get(a!.id).state, 'failed');
  assert.equal(queue.get(a!.id).error, 'the model folder is gone');
  m.pending.get('b')!.resolve();
  assert.equal((await queue.waitFor(b!.id)).state, 'done');
});

test('cancel: a waiting job never runs, the running one stops and keeps its saved images', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const updates: Job[] = [];
  queue.on('updated', (job) => updates.push(job));
  const [a, b, c] = queue.enqueue([request('a'), request('b'), request('c')]);
  queue.cancel(b!.id);
  m.pending.get('a')!.context.onImageSaved('img-1');
  queue.cancel(a!.id);
  const cancelled = await queue.waitFor(a!.id);
  assert.equal(cancelled.state, 'cancelled');
  assert.deepEqual(cancelled.imageIds, ['img-1']);
  assert.equal(cancelled.error, null);
  await tick();
  assert.deepEqual(m.started, ['a', 'c']);
  queue.cancelAll();
  assert.equal((await queue.waitFor(c!.id)).state, 'cancelled');
  assert.ok(updates.some((j) => j.id === b!.id && j.state === 'cancelled'));
  assert.throws(() => queue.cancel('nope'), /no job with id nope/);
});

test('batch count steps the seed by the batch size; prompts from a list make one job each', () => {
  const jobs = expandRequests({ ...request('x', 10), batchSize: 2 }, 3, parsePromptList('cat\r\n\n  dog  \n'));
  assert.deepEqual(
    jobs.map((j) => [j.prompt, j.seed]),
    [['cat', 10], ['cat', 12], ['cat', 14], ['dog', 10], ['dog', 12], ['dog', 14]],
  );
  assert.deepEqual(expandRequests(request('x', 5), 2).map((j) => [j.prompt, j.seed]), [['x', 5], ['x', 6]]);
  assert.throws(() => expandRequests(request('x', Number.MAX_SAFE_INTEGER), 2), /largest seed/);
});
