// `npm run bench:gallery`: is the gallery smooth at 10,000 images? Fills a temp history with
// 10,000 real entries (64x64 PNGs and thumbnails through the history library), starts `serve`
// on it, opens the Gallery in Debian's Chromium, scrolls 1,500 rows' worth while loading pages,
// and prints frame times and the number of grid cells in the DOM. Figures, not assertions.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHistory } from '../main/history/index.ts';
import { CHROMIUM_ARGS } from './playwright.config.ts';
import { BASE_A, startServe } from './serve-fixture.ts';

const COUNT = Number(process.env.BENCH_GALLERY_COUNT ?? 10_000);
const BATCH = 16;

async function fillHistory(dataDir: string): Promise<number> {
  const started = performance.now();
  const history = await openHistory({ dataDir });
  const pixels = new Uint8Array(64 * 64 * 3);
  for (let saved = 0; saved < COUNT; saved += BATCH) {
    const n = Math.min(BATCH, COUNT - saved);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + saved * 7) & 255;
    await history.saveGeneration({
      request: {
        prompt: `bench image ${saved} a lighthouse on a cliff`, negativePrompt: '', seed: saved, steps: 1, guidance: 1,
        width: 64, height: 64, batchSize: n, sharedNoise: false, baseModelId: BASE_A, lora: null, sampler: 'lcm',
      },
      images: Array.from({ length: n }, (_, batchIndex) => ({ pixels, width: 64, height: 64, channels: 3 as const, batchIndex })),
      provider: 'cpu',
      timingsMs: { total: 1 },
      baseModel: { id: BASE_A, name: BASE_A },
    });
  }
  history.close();
  return performance.now() - started;
}

const root = mkdtempSync(join(tmpdir(), 'yoso-bench-gallery-'));
const dataDir = join(root, 'data');
try {
  const fillMs = await fillHistory(dataDir);
  console.log(`history: ${COUNT} images saved in ${(fillMs / 1000).toFixed(1)} s`);
  const serve = await startServe({ withModels: true, dataDir });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    await page.goto(serve.url);
    const opened = performance.now();
    await page.getByRole('button', { name: /^Gallery/ }).click();
    await page.getByText(`${COUNT} images`, { exact: true }).waitFor();
    await page.locator('li[data-index="0"] img').waitFor();
    console.log(`gallery: first cells on screen ${(performance.now() - opened).toFixed(0)} ms after opening the tab`);
    const result = await page.evaluate(async () => {
      const viewport = document.querySelector<HTMLElement>('.viewport')!;
      const frames: number[] = [];
      let cellsMax = 0;
      let last = performance.now();
      for (let frame = 0; frame < 600; frame++) {
        viewport.scrollTop += 400;
        await new Promise(requestAnimationFrame);
        const now = performance.now();
        frames.push(now - last);
        last = now;
        cellsMax = Math.max(cellsMax, document.querySelectorAll('li[data-index]').length);
      }
      const lastIndex = Math.max(...[...document.querySelectorAll<HTMLElement>('li[data-index]')].map((li) => Number(li.dataset.index)));
      frames.sort((a, b) => a - b);
      // No helper functions in here: tsx would wrap them in a __name() the page does not have.
      return {
        p50: frames[Math.floor(0.5 * frames.length)]!,
        p95: frames[Math.floor(0.95 * frames.length)]!,
        max: frames[frames.length - 1]!,
        cellsMax,
        lastIndex,
        nodes: document.getElementsByTagName('*').length,
      };
    });
    console.log(
      `scroll: 600 frames of 400 px, frame time p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, max ${result.max.toFixed(1)} ms; ` +
        `reached item ${result.lastIndex}; at most ${result.cellsMax} cells and ${result.nodes} DOM elements`,
    );
  } finally {
    await browser.close();
    await serve.stop();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
