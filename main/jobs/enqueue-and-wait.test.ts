// enqueueAndWait when its caller goes away: before anything is queued (nothing runs), while its
// jobs wait or run (its jobs are cancelled, the studio's are not), and after the queue already
// dropped one of its finished jobs from the list (no throw inside the abort listener).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Job } from '../contract/api.ts';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { manualRunner, request, tick } from '../test/manual-runner.ts';
import { enqueueAndWait } from './enqueue-and-wait.ts';
import { JobQueue } from './queue.ts';

let dataDir: string;
let history: HistoryStore;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'yoso-enqueue-'));
  history = await openHistory({ dataDir });
});
after(() => {
  history.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a signal aborted before queueing queues nothing', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(enqueueAndWait(queue, history, [request('mine')], 'a1111', { signal: controller.signal }), /went away before its jobs were queued/);
  assert.deepEqual(queue.list(), []);
  assert.deepEqual(m.started, []);
});

test('an abort cancels its own jobs only; the studio job runs on', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const [desk] = queue.enqueue([request('desk')], 'studio');
  const controller = new AbortController();
  const waiting = enqueueAndWait(queue, history, [request('mine-1'), request('mine-2')], 'a1111', { signal: controller.signal });
  controller.abort();
  const { jobs } = await waiting;
  assert.deepEqual(jobs.map((j) => j.state), ['cancelled', 'cancelled']);
  assert.equal(queue.get(desk!.id).state, 'running');
  m.pending.get('desk')!.resolve();
  assert.equal((await queue.waitFor(desk!.id)).state, 'done');
  assert.deepEqual(m.started, ['desk']);
});

test('an abort after the queue dropped one of its finished jobs cancels the rest and throws nothing', async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const controller = new AbortController();
  let mine: readonly Job[] = [];
  const waiting = enqueueAndWait(queue, history, [request('mine-1'), request('mine-2')], 'a1111', {
    signal: controller.signal,
    onQueued: (jobs) => (mine = jobs),
  });
  // The user puts 201 jobs of their own before mine-2: mine-1 ends and falls off the kept list.
  const fast = Array.from({ length: 201 }, (_, i) => `desk-${i}`);
  queue.enqueue(fast.map((p) => request(p)), 'studio');
  queue.move(mine[1]!.id, 1_000);
  for (const prompt of ['mine-1', ...fast]) {
    m.pending.get(prompt)!.resolve();
    await tick();
  }
  assert.throws(() => queue.get(mine[0]!.id), /no job with id/);
  assert.equal(queue.get(mine[1]!.id).state, 'running');
  controller.abort();
  const { jobs } = await waiting;
  assert.deepEqual(jobs.map((j) => j.state), ['done', 'cancelled']);
});
