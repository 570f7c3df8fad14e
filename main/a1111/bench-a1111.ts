// `npm run bench:a1111 -- [N]`: what the A1111 layer costs on top of the studio's queue.
// Starts the real studio on 127.0.0.1 with the tiny fixture, warms it up, then times N one-image
// requests (64x64, 1 step) through POST /sdapi/v1/txt2img and N through the queue directly, and
// prints the medians. Figures, not assertions: the machine's load moves them.
import { performance } from 'node:perf_hooks';
import { startTestStudio, tinyRequest } from '../test/studio-fixture.ts';
import { mountA1111 } from './index.ts';

const n = Number(process.argv[2] ?? 10);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const t = await startTestStudio({ http: true });
try {
  mountA1111(t.server!, t.studio, { credentials: null });
  const url = new URL('/sdapi/v1/txt2img', t.url!);
  const body = (seed: number) => JSON.stringify({ prompt: 'a red fox in the snow', seed, width: 64, height: 64, steps: 1, cfg_scale: 1, sampler_name: 'LCM' });
  const viaHttp = async (seed: number) => {
    const response = await fetch(url, { method: 'POST', body: body(seed) });
    if (response.status !== 200) throw new Error(`txt2img answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { images: string[] };
  };
  await viaHttp(1);
  await t.studio.enqueueAndWait([tinyRequest({ seed: 1, steps: 1 })], 'studio');
  const http: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < n; i++) {
    let start = performance.now();
    await viaHttp(100 + i);
    http.push(performance.now() - start);
    start = performance.now();
    await t.studio.enqueueAndWait([tinyRequest({ seed: 100 + i, steps: 1 })], 'studio');
    direct.push(performance.now() - start);
  }
  const batch = performance.now();
  const four = await fetch(url, { method: 'POST', body: JSON.stringify({ ...JSON.parse(body(7)), batch_size: 2, n_iter: 2 }) });
  await four.json();
  console.log(`A1111 txt2img over HTTP, 1 image 64x64 1 step: median ${median(http).toFixed(1)} ms (n=${n})`);
  console.log(`same request through the studio queue directly:  median ${median(direct).toFixed(1)} ms (n=${n})`);
  console.log(`A1111 layer overhead (HTTP, JSON, PNG read, base64, info): ${(median(http) - median(direct)).toFixed(1)} ms`);
  console.log(`batch_size 2 x n_iter 2 (4 images) over HTTP: ${(performance.now() - batch).toFixed(1)} ms`);
} finally {
  await t.close();
}
