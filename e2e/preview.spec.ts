// The quick preview in Chromium against a real `serve`: Settings says TAESD is missing, a (seeded)
// TAESD is imported through the API, then a generation shows the preview (a data: PNG with its badge)
// before the full image replaces it. A MutationObserver records what the result area showed.
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomTaesdFile } from '../native-models/src/checkpoint/testing/write-random-taesd.ts';
import { guardPage } from './page-guards.ts';
import { REPO_ROOT, startServe, type RunningServe } from './serve-fixture.ts';

let serve: RunningServe;

test.beforeAll(async () => {
  test.skip(!existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html')), 'renderer/dist is missing: run `npm run build:renderer` (npm run test:e2e does)');
  serve = await startServe({ withModels: true });
});

test.afterAll(async () => {
  await serve?.stop();
});

test('preview on: the TAESD preview shows first, then the full image replaces it', async ({ page }) => {
  const record = await guardPage(page, serve.url);
  await page.goto(serve.url);

  await page.getByRole('button', { name: /^Settings/ }).click();
  await page.getByLabel('Preview', { exact: true }).selectOption('preview-then-full');
  await expect(page.getByTestId('preview-unavailable')).toContainText('not installed');

  const taesd = join(serve.root, 'diffusion_pytorch_model.safetensors');
  writeRandomTaesdFile(taesd, 5, 'diffusers');
  const imported = await fetch(`${serve.url}/api/models.import`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: taesd }) });
  expect(imported.status).toBe(200);
  await page.reload();
  await page.getByRole('button', { name: /^Models/ }).click();
  await expect(page.getByRole('cell', { name: 'Preview decoder' })).toBeVisible();
  await page.getByRole('button', { name: /^Settings/ }).click();
  await expect(page.getByLabel('Preview', { exact: true })).toHaveValue('preview-then-full');
  await expect(page.getByTestId('preview-unavailable')).toHaveCount(0);

  await page.getByRole('button', { name: /^Create/ }).click();
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __shown: string[] }).__shown = seen;
    const note = () => {
      const preview = document.querySelector('[data-testid="preview"] img');
      const main = document.querySelector('img.main-image');
      const entry = preview ? `preview ${preview.getAttribute('src')!.slice(0, 22)}` : main ? `image ${main.getAttribute('src')!.replace(/^.*\/files\/.*\.png.*$/, 'file')}` : 'empty';
      if (seen.at(-1) !== entry) seen.push(entry);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['src'] });
  });
  await page.getByLabel('Prompt', { exact: true }).fill('a red fox in the snow');
  await page.getByLabel('Size', { exact: true }).selectOption('64x64');
  await page.keyboard.press('Control+Enter');
  await expect(page.locator('img.main-image')).toHaveAttribute('src', /\/files\//);
  await expect(page.getByTestId('preview')).toHaveCount(0);
  const shown = await page.evaluate(() => (window as unknown as { __shown: string[] }).__shown);
  expect(shown.filter((s) => s !== 'empty')).toEqual(['preview data:image/png;base64,', 'image file']);
  expect(record.pageErrors).toEqual([]);
  expect(await record.cspViolations()).toEqual([]);
});

test('live mode: the picture follows the prompt as it is typed, nothing is saved until Generate', async ({ page }) => {
  const record = await guardPage(page, serve.url);
  await page.goto(serve.url);
  await page.getByRole('button', { name: /^Create/ }).click();
  const total = async () => ((await (await fetch(`${serve.url}/api/history.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { total: number }).total;
  const before = await total();
  await page.getByLabel('Size', { exact: true }).selectOption('64x64');
  await page.getByLabel('Live picture while typing').check();
  await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse at dusk');
  const live = page.getByTestId('live-preview').locator('img');
  await expect(live).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect(live).toHaveAttribute('alt', /a lighthouse at dusk/);
  const first = await live.getAttribute('src');
  await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse in a storm');
  await expect.poll(() => live.getAttribute('src')).not.toBe(first);
  await page.screenshot({ path: join(REPO_ROOT, 'e2e', 'artifacts', 'screens', 'live.png') });
  expect(await total()).toBe(before);
  await page.keyboard.press('Control+Enter');
  await expect(page.locator('img.main-image')).toHaveAttribute('src', /\/files\//);
  await expect.poll(total).toBe(before + 1);
  await page.getByLabel('Live picture while typing').uncheck();
  expect(record.pageErrors).toEqual([]);
  expect(await record.cspViolations()).toEqual([]);
});
