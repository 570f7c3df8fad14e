// Figures for the main side (printed, not asserted): the main event loop's delay while the
// inference process generates, the HTTP API's latency meanwhile, the queue's overhead per job
// (enqueue → done, minus the pipeline's own time), and the restart time after a kill -9.
// For contrast it also measures the loop delay when the same pipeline runs on the main thread.
//
//   npm run bench:serve -- [--size 128] [--steps 4] [--jobs 5] [--model DIR]
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { StableDiffusionPipeline } from '../../native-models/src/index.ts';
import { FIXTURES_DIR } from '../../native-models/test/fixtures.ts';
import { openStudio } from '../api/studio.ts';
import { encodeForHistory } from '../history/encode-image.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import { NodeProcessHost } from '../inference/node-process-host.ts';
import { StudioServer } from '../server/http-server.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    steps: { type: 'string', default: '4' },
    jobs: { type: 'string', default: '5' },
    model: { type: 'string', default: join(FIXTURES_DIR, 'tiny-sd15') },
  },
});
const size = Number(values.size);
const steps = Number(values.steps);
const jobCount = Number(values.jobs);

const ms = (ns: number) => (ns / 1e6).toFixed(1);
const describe = (h: IntervalHistogram) =>
  `mean ${ms(h.mean)} ms, p50 ${ms(h.percentile(50))} ms, p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms`;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const root = mkdtempSync(join(tmpdir(), 'yoso-serve-bench-'));
const modelsDir = join(root, 'models');
mkdirSync(modelsDir);
symlinkSync(values.model, join(modelsDir, 'bench'), 'dir');
const request: GenerationRequest = {
  prompt: 'a lighthouse on a cliff at dusk',
  negativePrompt: '',
  seed: 1,
  steps,
  guidance: 1,
  width: size,
  height: size,
  batchSize: 1,
  sharedNoise: false,
  baseModelId: 'bench',
  lora: null,
  sampler: 'lcm',
};

const studio = await openStudio({ dataDir: join(root, 'data'), modelsDir, host: new NodeProcessHost() });
await studio.handlers['settings.set']({ provider: 'cpu' });
const server = new StudioServer({ studio, rendererDir: join(root, 'none'), access: { token: null } });
const url = await server.listen(0, '127.0.0.1');
await studio.supervisor.start();
console.log(`inference process start (spawn → ready): ${studio.supervisor.lastStartMs!.toFixed(0)} ms`);

// Warm-up job: loads the model in the worker so the figures below are steady-state.
const [warm] = studio.queue.enqueue([request]);
await studio.queue.waitFor(warm!.id);

// --- baseline: the same monitor on the idle main loop -------------------------------------------
const idle = monitorEventLoopDelay({ resolution: 10 });
idle.enable();
await new Promise((r) => setTimeout(r, 2000));
idle.disable();
console.log(`main event-loop delay, idle (baseline of this monitor on this machine): ${describe(idle)}`);

// --- what one 512x512 save costs the main loop: from pixels (imports, tests: the PNG and the
// thumbnail are encoded here) and pre-encoded (generation: the inference process encoded them) ---
{
  const pixels = new Uint8Array(512 * 512 * 3).map((_, i) => (i * 2654435761) >>> 24);
  const encoded = await encodeForHistory({ width: 512, height: 512, channels: 3, data: pixels });
  for (const [label, image] of [
    ['from pixels', { pixels, width: 512, height: 512, channels: 3 as const, batchIndex: 0 }],
    ['pre-encoded', { encoded, width: 512, height: 512, channels: 3 as const, batchIndex: 0 }],
  ] as const) {
    const saveLoop = monitorEventLoopDelay({ resolution: 10 });
    saveLoop.enable();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      await studio.history.saveGeneration({
        request: { ...request, width: 512, height: 512, seed: 10_000 + i },
        images: [image],
        provider: 'cpu',
        timingsMs: {},
        baseModel: { id: 'bench' },
      });
    }
    saveLoop.disable();
    console.log(`history save of a 512x512 image on the main side, ${label}: ${((performance.now() - t0) / 5).toFixed(0)} ms each; loop delay meanwhile ${describe(saveLoop)}`);
  }
}

// --- generation in the inference process, main loop watched, API polled ---------------------
const enqueuedAt = new Map<string, number>();
const doneAt = new Map<string, number>();
studio.queue.on('updated', (job) => {
  if (job.state === 'done' && !doneAt.has(job.id)) doneAt.set(job.id, performance.now());
});
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const apiLatencies: number[] = [];
let polling = true;
const poll = (async () => {
  while (polling) {
    const started = performance.now();
    const res = await fetch(new URL('/api/jobs.list', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    apiLatencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 50));
  }
})();
const started = performance.now();
const jobs = studio.queue.enqueue(Array.from({ length: jobCount }, (_, i) => ({ ...request, seed: 100 + i })));
for (const job of jobs) enqueuedAt.set(job.id, started);
const finished = await Promise.all(jobs.map((j) => studio.queue.waitFor(j.id)));
const wall = performance.now() - started;
loop.disable();
polling = false;
await poll;

const pipelineMs = finished.map((j) => studio.history.get(j.imageIds[0]!)!.timingsMs.total!);
const perJobWall = wall / jobCount;
const perJobPipeline = pipelineMs.reduce((a, b) => a + b, 0) / jobCount;
console.log(`\n${jobCount} jobs of ${size}x${size}, ${steps} steps, in the inference process (${(wall / 1000).toFixed(1)} s):`);
console.log(`  main event-loop delay while generating: ${describe(loop)}`);
console.log(`  HTTP POST /api/jobs.list meanwhile: p50 ${quantile(apiLatencies, 0.5).toFixed(1)} ms, p99 ${quantile(apiLatencies, 0.99).toFixed(1)} ms, max ${Math.max(...apiLatencies).toFixed(1)} ms (${apiLatencies.length} calls)`);
console.log(`  per job: ${perJobWall.toFixed(0)} ms wall, ${perJobPipeline.toFixed(0)} ms inside the pipeline → queue + IPC + history save overhead ${(perJobWall - perJobPipeline).toFixed(0)} ms`);

// --- restart after kill -9 --------------------------------------------------------------------
const killedAt = performance.now();
const ready = new Promise<void>((resolve) => studio.supervisor.on('status', (s) => s.state === 'ready' && resolve()));
process.kill(studio.supervisor.pid!, 'SIGKILL');
await ready;
const restartMs = performance.now() - killedAt;
const [afterCrash] = studio.queue.enqueue([{ ...request, seed: 999 }]);
const afterCrashStarted = performance.now();
const afterJob = await studio.queue.waitFor(afterCrash!.id);
const firstJobMs = performance.now() - afterCrashStarted;
const item = studio.history.get(afterJob.imageIds[0]!)!;
console.log(`\nkill -9 → ready again: ${restartMs.toFixed(0)} ms; first job after it: ${firstJobMs.toFixed(0)} ms (model load ${item.timingsMs.load!.toFixed(0)} ms)`);

await server.close();
await studio.close();

// --- contrast: the same pipeline on the main thread --------------------------------------------
const pipeline = await StableDiffusionPipeline.fromFolder(values.model, { provider: 'cpu' });
await pipeline.generate({ ...request, png: false });
const inline = monitorEventLoopDelay({ resolution: 10 });
inline.enable();
for (let i = 0; i < jobCount; i++) await pipeline.generate({ ...request, seed: 100 + i, png: false });
inline.disable();
await pipeline.release();
console.log(`\nfor contrast, the same ${jobCount} jobs on the main thread: event-loop delay ${describe(inline)}`);

rmSync(root, { recursive: true, force: true });
