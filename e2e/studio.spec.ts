// The studio end to end, in Chromium against a real `serve` and the real tiny model:
// first run → generate → image and gallery entry → reload → change base model and LoRA strength →
// generate → search → export a zip → delete → undo; and the page makes no request outside the app.
import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guardPage } from './page-guards.ts';
import { BASE_A, BASE_B, LORA, REPO_ROOT, makeModelsFolder, startServe, type RunningServe } from './serve-fixture.ts';
import { zipEntries } from './zip-entries.ts';

const SCREENS = join(REPO_ROOT, 'e2e', 'artifacts', 'screens');
let serve: RunningServe;

test.beforeAll(async () => {
  test.skip(!existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html')), 'renderer/dist is missing: run `npm run build:renderer` (npm run test:e2e does)');
  serve = await startServe({ withModels: false });
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status === testInfo.expectedStatus || !serve) return;
  const jobs = await fetch(`${serve.url}/api/jobs.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    .then((r) => r.text())
    .catch((e: Error) => e.message);
  console.log(`serve output:\n${serve.log()}\njobs: ${jobs.slice(0, 2000)}`);
});

test.afterAll(async () => {
  await serve?.stop();
});

/** Screenshots for the README: transient toasts are dismissed first so each screen shows itself. */
async function shot(page: Page, name: string): Promise<void> {
  for (const dismiss of await page.getByRole('button', { name: 'Dismiss' }).all()) await dismiss.click().catch(() => {});
  await page.screenshot({ path: join(SCREENS, `${name}.png`) });
}

async function generateAndWait(page: Page, previousSrc: string | null): Promise<string> {
  await page.keyboard.press('Control+Enter');
  const image = page.locator('img.main-image');
  await expect(image).toHaveAttribute('src', /\/files\//);
  if (previousSrc) await expect(image).not.toHaveAttribute('src', previousSrc);
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  return (await image.getAttribute('src'))!;
}

test('first run, generate, reload, change model and strength, search, export, delete, undo', async ({ page }) => {
  const record = await guardPage(page, serve.url);

  await test.step('first run explains models instead of a blank screen', async () => {
    const response = await page.goto(serve.url);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.getByRole('heading', { name: 'Welcome to YOSO Studio' })).toBeVisible();
    await expect(page.getByText(serve.modelsDir).first()).toBeVisible();
    await shot(page, 'first-run');
  });

  await test.step('models appear in the folder; the generate panel takes over', async () => {
    makeModelsFolder(serve.modelsDir);
    await page.getByRole('button', { name: 'Look again' }).click();
    await expect(page.getByRole('form', { name: 'Generate' })).toBeVisible();
    await expect(page.getByLabel('Base model', { exact: true })).toHaveValue(BASE_A);
    await expect(page.getByLabel('LoRA', { exact: true })).toHaveValue(LORA);
  });

  let firstSrc = '';
  await test.step('generate: the image and its gallery entry appear', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('a red fox in the snow');
    await page.getByLabel('Size', { exact: true }).selectOption('64x64');
    await page.getByRole('radio', { name: '2' }).click();
    await page.getByLabel('Seed', { exact: true }).fill('1234');
    await page.getByRole('button', { name: 'Lock seed' }).click();
    firstSrc = await generateAndWait(page, null);
    await expect(page.getByLabel('Result').getByText('a red fox in the snow')).toBeVisible();
    await expect(page.getByLabel('Result').getByText('1234', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: /^Gallery/ }).click();
    await expect(page.getByText('1 image', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: /a red fox in the snow, seed 1234/ })).toBeVisible();
  });

  await test.step('reload: still there', async () => {
    await page.reload();
    await expect(page.locator('img.main-image')).toHaveAttribute('src', firstSrc);
    await page.getByRole('button', { name: /^Gallery/ }).click();
    await expect(page.getByText('1 image', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: /^Create/ }).click();
  });

  await test.step('change the base model and the LoRA strength, generate again', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('a blue whale under the sea');
    await page.getByLabel('Base model', { exact: true }).selectOption(BASE_B);
    await page.getByLabel(/^Strength/).fill('0.5');
    await expect(page.getByLabel('Generate').locator('output[for="lora-scale"]')).toHaveText('0.50');
    await generateAndWait(page, firstSrc);
    const result = page.getByLabel('Result');
    await expect(result.getByText(`${BASE_B} + ${LORA} × 0.5`)).toBeVisible();
    await shot(page, 'create');
  });

  await test.step('a batch of three joins the queue and lands in the gallery', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('a lighthouse on a cliff at dusk');
    await page.getByRole('button', { name: 'Lock seed' }).click();
    await page.getByLabel('Batch count', { exact: true }).fill('3');
    await page.keyboard.press('Control+Enter');
    await page.getByRole('button', { name: /^Gallery/ }).click();
    await expect(page.getByText('5 images', { exact: true })).toBeVisible({ timeout: 60_000 });
  });

  await test.step('search finds it', async () => {
    await page.getByRole('button', { name: /^Create/ }).click();
    await page.keyboard.press('Control+f');
    await expect(page.locator('#gallery-search')).toBeFocused();
    await page.keyboard.type('whale');
    await expect(page.getByText('1 image', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: /a blue whale under the sea/ }).click();
    await expect(page.getByLabel('Selection').getByText(`${BASE_B} + ${LORA} × 0.5`)).toBeVisible();
    await shot(page, 'gallery-search');
    await page.locator('#gallery-search').fill('');
    await expect(page.getByText('5 images', { exact: true })).toBeVisible();
    await page.getByRole('button', { name: /a blue whale under the sea/ }).click();
    await shot(page, 'gallery');
  });

  await test.step('export a zip and check its contents', async () => {
    const zipPath = join(serve.root, 'export', 'studio.zip');
    await page.getByRole('button', { name: 'Export…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export' });
    await dialog.getByLabel(/^Destination/).fill(zipPath);
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await expect(dialog.getByText(/Exported 5 images/)).toBeVisible();
    await shot(page, 'export');
    const entries = await zipEntries(zipPath);
    const pngs = entries.filter((e) => e.name.endsWith('.png'));
    expect(pngs).toHaveLength(5);
    expect(pngs.every((e) => e.size > 0)).toBe(true);
    expect(pngs.some((e) => /whale/.test(e.name))).toBe(true);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  await test.step('delete: gone; undo: back', async () => {
    await page.getByRole('button', { name: /a blue whale under the sea/ }).click();
    await page.keyboard.press('Delete');
    await expect(page.getByText('4 images', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: /a blue whale under the sea/ })).toHaveCount(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect(page.getByText('5 images', { exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: /a blue whale under the sea/ })).toBeVisible();
  });

  await test.step('queue, models and settings screens', async () => {
    await page.getByRole('button', { name: /^Queue/ }).click();
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible();
    await shot(page, 'queue');
    await page.getByRole('button', { name: /^Models/ }).click();
    await expect(page.getByRole('cell', { name: new RegExp(BASE_B) })).toBeVisible();
    await shot(page, 'models');
    await page.getByRole('button', { name: /^Settings/ }).click();
    await expect(page.getByLabel('Execution provider')).toBeVisible();
    await shot(page, 'settings');
  });

  await test.step('the page stayed inside the app, under its CSP, without errors', async () => {
    expect(record.outside, `requests outside ${serve.url}`).toEqual([]);
    expect(record.requests.some((r) => r.includes('/api/events'))).toBe(true);
    expect(await record.cspViolations()).toEqual([]);
    expect(record.pageErrors).toEqual([]);
    console.log(`requests recorded: ${record.requests.length}, all inside ${serve.url}`);
  });
});
