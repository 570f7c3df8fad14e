// Figures for the quick preview in the app (printed, not asserted): with Settings.preview on and a
// seeded TAESD installed, how long after the UNet the preview reaches the main side (job.preview) and
// how long the full image takes (history.added), against the full image alone with preview off; and
// the job.preview event's size; live mode's picture and the Generate after it; live pictures while
// the prompt is typed with the seed fixed (the pictures after the first reuse what their first step
// computed without the prompt: the UNet's text-free prefix, and with guidance > 1 the unconditional
// half). Real studio, real inference child process, the real SSE payloads.
//
//   npm run bench:preview -- [--model DIR] [--size 64] [--steps 1] [--guidance 1] [--jobs 3]
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeRandomTaesdFile } from '../../native-models/src/checkpoint/testing/write-random-taesd.ts';
import { FIXTURES_DIR } from '../../native-models/test/fixtures.ts';
import { openStudio } from '../api/studio.ts';
import { NodeProcessHost } from '../inference/node-process-host.ts';
import { tinyRequest } from '../test/studio-fixture.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(FIXTURES_DIR, 'tiny-sd15') },
    size: { type: 'string', default: '64' },
    steps: { type: 'string', default: '1' },
    guidance: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '3' },
  },
});
const size = Number(values.size);
const jobCount = Number(values.jobs);

const root = mkdtempSync(join(tmpdir(), 'yoso-preview-bench-'));
const modelsDir = join(root, 'models');
mkdirSync(modelsDir);
symlinkSync(values.model, join(modelsDir, 'bench'), 'dir');
const request = tinyRequest({ prompt: 'a lighthouse on a cliff at dusk', seed: 1, steps: Number(values.steps), guidance: Number(values.guidance), width: size, height: size, baseModelId: 'bench' });

const studio = await openStudio({ dataDir: join(root, 'data'), modelsDir, host: new NodeProcessHost() });
try {
  await studio.handlers['settings.set']({ provider: 'cpu' });
  const taesdFile = join(root, 'diffusion_pytorch_model.safetensors');
  writeRandomTaesdFile(taesdFile, 1, 'diffusers');
  const importStarted = performance.now();
  await studio.models.importPath(taesdFile);
  console.log(`TAESD import (read, build the decoder graph, install): ${(performance.now() - importStarted).toFixed(0)} ms`);

  /** Main-side arrival times of one job's events, and the worker's own stage timings. */
  async function run(preview: boolean, seed: number) {
    await studio.handlers['settings.set']({ preview: preview ? 'preview-then-full' : 'full-only' });
    const at: Record<string, number> = {};
    let previewBytes = 0;
    let afterMs = 0;
    const stop = studio.events.subscribe((e) => {
      const now = performance.now();
      if (e.name === 'job.updated' && e.payload.progress?.stage === 'vae') at.vae ??= now;
      if (e.name === 'job.preview') {
        at.preview = now;
        afterMs = e.payload.afterMs;
        previewBytes = Buffer.byteLength(JSON.stringify(e.payload));
      }
      if (e.name === 'history.added') at.image = now;
    });
    const { jobIds } = await studio.handlers['generate.enqueue']({ request: { ...request, seed }, count: 1 });
    const job = await studio.queue.waitFor(jobIds[0]!);
    stop();
    if (job.state !== 'done') throw new Error(`job ${job.state}: ${job.error}`);
    const t = studio.history.get(job.imageIds[0]!)!.timingsMs;
    const unetDone = (t.text ?? 0) + (t.unet ?? 0) + (t.scheduler ?? 0);
    if (!preview) return { full: at.image! - at.vae!, vae: t.vae ?? 0 };
    // afterMs counts from the worker's pipeline call; the rest is main-side clock differences.
    const previewAfterUnet = afterMs - unetDone;
    return { preview: previewAfterUnet, full: previewAfterUnet + (at.image! - at.preview!), vae: t.vae ?? 0, previewBytes };
  }

  await run(false, 0); // load the model (not measured)
  await run(true, 0); // open TAESD
  const rows: Array<Awaited<ReturnType<typeof run>>> = [];
  for (let i = 1; i <= jobCount; i++) rows.push(await run(true, i), await run(false, i));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const on = rows.filter((r) => 'preview' in r) as Array<{ preview: number; full: number; vae: number; previewBytes: number }>;
  const off = rows.filter((r) => !('preview' in r));
  console.log(`model ${values.model}, ${size}x${size}, ${request.steps} step(s), ${jobCount} jobs each way, CPU`);
  console.log(`preview on : preview in the app ${mean(on.map((r) => r.preview)).toFixed(0)} ms after the UNet, full image ${mean(on.map((r) => r.full)).toFixed(0)} ms after the UNet (VAE ${mean(on.map((r) => r.vae)).toFixed(0)} ms)`);
  console.log(`preview off: full image ${mean(off.map((r) => r.full)).toFixed(0)} ms after the UNet (VAE ${mean(off.map((r) => r.vae)).toFixed(0)} ms)`);
  console.log(`job.preview event: ${on[0]!.previewBytes} bytes of JSON (PNG data URL)`);

  // Live mode: the picture of the form's settings, then Generate of the same settings (which decodes
  // the live run's latents) against Generate of settings with no live picture before.
  await studio.handlers['settings.set']({ preview: 'full-only' });
  const generateMs = async (seed: number) => {
    const started = performance.now();
    const { jobIds } = await studio.handlers['generate.enqueue']({ request: { ...request, seed }, count: 1 });
    await studio.queue.waitFor(jobIds[0]!);
    return performance.now() - started;
  };
  const live: number[] = [];
  const afterLive: number[] = [];
  const cold: number[] = [];
  for (let i = 1; i <= jobCount; i++) {
    const started = performance.now();
    await studio.handlers['generate.live']({ request: { ...request, seed: 100 + i } });
    live.push(performance.now() - started);
    afterLive.push(await generateMs(100 + i));
    cold.push(await generateMs(200 + i));
  }
  console.log(`live mode  : live picture ${mean(live).toFixed(0)} ms after the request; Generate of those settings ${mean(afterLive).toFixed(0)} ms to the saved image, of new settings ${mean(cold).toFixed(0)} ms`);

  const typed = ['a lighthouse', 'a lighthouse on a cliff', 'a lighthouse on a cliff at dusk', 'a lighthouse on a cliff at dusk, oil painting'];
  const typing: number[] = [];
  for (const prompt of typed) {
    const started = performance.now();
    await studio.handlers['generate.live']({ request: { ...request, prompt, seed: 300 } });
    typing.push(performance.now() - started);
  }
  console.log(`typing     : live pictures of ${typed.length} prompts, seed fixed, guidance ${request.guidance}: first ${typing[0]!.toFixed(0)} ms, then ${typing.slice(1).map((ms) => ms.toFixed(0)).join(', ')} ms`);
} finally {
  await studio.close();
  rmSync(root, { recursive: true, force: true });
}
