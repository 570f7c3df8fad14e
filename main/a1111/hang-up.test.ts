// A1111 clients that hang up, on a real HTTP server on 127.0.0.1: a client that closes its socket
// before its jobs are queued leaves nothing running; one that closes while its job waits cancels
// that job and never the studio's. The queue is the real JobQueue; its runner is one the test ends
// job by job (main/test/manual-runner.ts), since what is tested is who gets cancelled, not pixels.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { InstalledModel, Settings } from '../contract/api.ts';
import { enqueueAndWait } from '../jobs/enqueue-and-wait.ts';
import { JobQueue } from '../jobs/queue.ts';
import { manualRunner, request, tick } from '../test/manual-runner.ts';
import { createA1111Api, type A1111Deps } from './api.ts';

const model: InstalledModel = { id: 'tiny', name: 'tiny', kind: 'base', path: 'tiny', sizeBytes: 1, source: 'imported', recommended: null };

async function startApi(deps: A1111Deps): Promise<{ server: Server; port: number; handled: Promise<void>[] }> {
  const api = createA1111Api(deps, { credentials: null });
  const handled: Promise<void>[] = [];
  const server = createServer((req, res) => {
    handled.push(api.handle(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')).then(() => undefined));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, handled };
}

/** POSTs a txt2img body and closes the socket once `hangUpWhen` resolves. */
function postAndHangUp(port: number, hangUpWhen: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/sdapi/v1/txt2img', headers: { 'Content-Type': 'application/json' } });
    req.on('error', () => resolve()); // the hang-up itself
    req.end(JSON.stringify({ prompt: 'a fox', width: 64, height: 64, steps: 1, sampler_name: 'LCM' }));
    void hangUpWhen.then(() => req.destroy());
  });
}

function depsFor(queue: JobQueue, listModels: () => Promise<InstalledModel[]>): A1111Deps {
  return {
    queue,
    enqueueAndWait: (requests, options) => enqueueAndWait(queue, { get: () => null }, requests, 'a1111', options),
    listModels,
    settings: async () => ({ defaultBaseModelId: 'tiny', defaultLoraId: null }) as unknown as Settings,
    readImage: async () => new Uint8Array(),
    expand: (r, count) => Array.from({ length: count }, (_, i) => ({ ...r, seed: r.seed + i })),
    modelsDir: '/models',
  };
}

/** Ends the studio's job and checks that it was the only one the runner ever started. */
async function assertOnlyDeskJobRan(queue: JobQueue, m: ReturnType<typeof manualRunner>, deskId: string): Promise<void> {
  m.pending.get('desk')!.resolve();
  assert.equal((await queue.waitFor(deskId)).state, 'done');
  await tick();
  assert.deepEqual(m.started, ['desk']);
}

test('a client that hangs up before its job is queued leaves nothing queued or running', { timeout: 20_000 }, async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const [desk] = queue.enqueue([request('desk')], 'studio');
  // The body has been read and the model list is being looked up when the client goes.
  let bodyRead!: () => void;
  const lookingUp = new Promise<void>((r) => (bodyRead = r));
  let finishLookup!: () => void;
  const lookupDone = new Promise<void>((r) => (finishLookup = r));
  const { server, port, handled } = await startApi(
    depsFor(queue, async () => {
      bodyRead();
      await lookupDone;
      return [model];
    }),
  );
  try {
    const serverSawClose = new Promise<void>((resolve) => server.once('connection', (socket) => socket.once('close', () => resolve())));
    await postAndHangUp(port, lookingUp);
    await serverSawClose;
    const queuedAnyway = new Promise((resolve) => queue.on('updated', (job) => job.origin === 'a1111' && resolve('queued')));
    finishLookup();
    assert.equal(await Promise.race([Promise.all(handled).then(() => 'answered'), queuedAnyway]), 'answered');
    assert.deepEqual(queue.list().map((j) => [j.origin, j.state]), [['studio', 'running']]);
    await assertOnlyDeskJobRan(queue, m, desk!.id);
  } finally {
    server.close();
  }
});

test("a client that hangs up while its job waits cancels that job, not the studio's", { timeout: 20_000 }, async () => {
  const m = manualRunner();
  const queue = new JobQueue(m.runner);
  const [desk] = queue.enqueue([request('desk')], 'studio');
  const queued = new Promise<void>((resolve) => queue.on('updated', (job) => job.origin === 'a1111' && job.state === 'queued' && resolve()));
  const { server, port, handled } = await startApi(depsFor(queue, async () => [model]));
  try {
    await postAndHangUp(port, queued);
    await new Promise<void>((resolve) => queue.on('updated', (job) => job.origin === 'a1111' && job.state === 'cancelled' && resolve()));
    await Promise.all(handled);
    assert.deepEqual(queue.list().map((j) => [j.origin, j.state]), [['a1111', 'cancelled'], ['studio', 'running']]);
    await assertOnlyDeskJobRan(queue, m, desk!.id);
  } finally {
    server.close();
  }
});
