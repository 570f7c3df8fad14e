// The inference process's life cycle with the real worker entry in a real child process:
// start, kill -9 → crash reported → restarted with a new pid, and the crash-loop guard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InferenceStatus } from '../contract/api.ts';
import { NodeProcessHost } from './node-process-host.ts';
import { defaultWorkerEntry, type ProcessHost } from './process-host.ts';
import { InferenceSupervisor } from './supervisor.ts';
import { TINY_SD15 } from '../../native-models/test/fixtures.ts';
import { tinyRequest } from '../test/studio-fixture.ts';

function waitForState(supervisor: InferenceSupervisor, state: InferenceStatus['state']): Promise<InferenceStatus> {
  return new Promise((resolve) => {
    const listener = (status: InferenceStatus) => {
      if (status.state !== state) return;
      supervisor.off('status', listener);
      resolve(status);
    };
    supervisor.on('status', listener);
  });
}

test('a worker killed with SIGKILL is reported and restarted with a new process', async () => {
  const supervisor = new InferenceSupervisor({ host: new NodeProcessHost(), entry: defaultWorkerEntry() });
  try {
    await supervisor.start();
    assert.equal(supervisor.status().state, 'ready');
    assert.ok(supervisor.providers.includes('cpu'), `providers: ${supervisor.providers.join(', ')}`);
    const firstPid = supervisor.pid!;
    const seen: InferenceStatus[] = [];
    supervisor.on('status', (s) => seen.push(s));
    const readyAgain = waitForState(supervisor, 'ready');
    process.kill(firstPid, 'SIGKILL');
    await readyAgain;
    assert.deepEqual(seen.map((s) => s.state), ['crashed', 'restarting', 'ready']);
    assert.match(seen[0]!.message ?? '', /killed \(SIGKILL\)/);
    assert.notEqual(supervisor.pid, firstPid);
    assert.ok(supervisor.lastStartMs! > 0);
  } finally {
    await supervisor.stop();
  }
});

test('a worker that keeps dying is not restarted forever', async () => {
  const supervisor = new InferenceSupervisor({ host: new NodeProcessHost(), entry: defaultWorkerEntry(), maxRestarts: 1 });
  try {
    await supervisor.start();
    let ready = waitForState(supervisor, 'ready');
    process.kill(supervisor.pid!, 'SIGKILL');
    await ready;
    const crashed = new Promise<InferenceStatus>((resolve) =>
      supervisor.on('status', (s) => s.state === 'crashed' && /keeps crashing/.test(s.message ?? '') && resolve(s)),
    );
    process.kill(supervisor.pid!, 'SIGKILL');
    await crashed;
    await assert.rejects(supervisor.start(), /crashed 2 times/);
  } finally {
    await supervisor.stop();
  }
});

test('a cancel that does not stop within the grace time kills the process; the job counts as cancelled', async () => {
  // A 256x256 UNet step on the tiny model takes longer than the 1 ms grace, like a hung driver would.
  const supervisor = new InferenceSupervisor({ host: new NodeProcessHost(), entry: defaultWorkerEntry(), cancelGraceMs: 1 });
  try {
    await supervisor.start();
    const firstPid = supervisor.pid!;
    const controller = new AbortController();
    const restarting = waitForState(supervisor, 'restarting');
    const readyAgain = restarting.then(() => waitForState(supervisor, 'ready'));
    const run = supervisor.generate(tinyRequest({ width: 256, height: 256, steps: 4 }), { baseDir: TINY_SD15(), loraPath: null }, 'cpu', {
      signal: controller.signal,
      onProgress: (p) => p.stage === 'unet' && controller.abort(),
    });
    await assert.rejects(run, { name: 'AbortError' });
    assert.match((await restarting).message ?? '', /did not stop a cancelled generation in time/);
    await readyAgain;
    assert.notEqual(supervisor.pid, firstPid);
  } finally {
    await supervisor.stop();
  }
});

test('many releases add no listeners to the process (no leak, no MaxListeners warning)', async () => {
  // The real host, wrapped only to count the listeners the supervisor registers on the process.
  const counts = { message: 0, exit: 0 };
  const realHost = new NodeProcessHost();
  const host: ProcessHost = {
    spawn(entry, env) {
      const worker = realHost.spawn(entry, env);
      return {
        get pid() {
          return worker.pid;
        },
        send: (message) => worker.send(message),
        onMessage: (listener) => (counts.message++, worker.onMessage(listener)),
        onExit: (listener) => (counts.exit++, worker.onExit(listener)),
        kill: () => worker.kill(),
      };
    },
  };
  const supervisor = new InferenceSupervisor({ host, entry: defaultWorkerEntry() });
  try {
    await supervisor.start();
    const before = { ...counts };
    for (let i = 0; i < 25; i++) await supervisor.release(TINY_SD15());
    await Promise.all(Array.from({ length: 5 }, () => supervisor.release(TINY_SD15())));
    assert.deepEqual(counts, before);
  } finally {
    await supervisor.stop();
  }
});

test('a release waiting on a process that dies settles instead of hanging', async () => {
  const supervisor = new InferenceSupervisor({ host: new NodeProcessHost(), entry: defaultWorkerEntry() });
  try {
    await supervisor.start();
    const pid = supervisor.pid!;
    const released = supervisor.release(TINY_SD15());
    process.kill(pid, 'SIGKILL');
    await released;
  } finally {
    await supervisor.stop();
  }
});

test('prepare opens the model before the first generate, which then reports no load time', async () => {
  const supervisor = new InferenceSupervisor({ host: new NodeProcessHost(), entry: defaultWorkerEntry() });
  try {
    const models = { baseDir: TINY_SD15(), loraPath: null };
    const cold = await supervisor.generate(tinyRequest(), models, 'cpu');
    assert.ok(cold.timingsMs.load! > 0, 'the first generate of a fresh process loads the model');
    await supervisor.release(TINY_SD15());
    await supervisor.prepare(models, null, 'cpu');
    const warm = await supervisor.generate(tinyRequest(), models, 'cpu');
    assert.equal(warm.timingsMs.load, 0);
  } finally {
    await supervisor.stop();
  }
});
