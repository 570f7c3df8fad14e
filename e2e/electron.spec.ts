// The same studio in the desktop shell through Playwright's _electron, where the Electron binary is
// installed; elsewhere (CI here: installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1) it skips and says why.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT, makeModelsFolder } from './serve-fixture.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const require = createRequire(import.meta.url);
const { electronBinary } = require('../scripts/electron-binary.mjs') as {
  electronBinary: (r: NodeRequire) => { ok: true; path: string } | { ok: false; reason: string };
};

test('desktop: generate an image in the Electron window', async () => {
  const binary = electronBinary(require);
  if (!binary.ok) console.log(`[electron] skipped: ${binary.reason}`);
  test.skip(!binary.ok, binary.ok ? '' : binary.reason);
  const built = existsSync(join(REPO_ROOT, 'out', 'electron', 'main.js'));
  if (!built) console.log('[electron] skipped: out/electron/main.js is missing (npm run build:electron)');
  test.skip(!built, 'npm run build:electron first');

  const root = mkdtempSync(join(tmpdir(), 'yoso-electron-'));
  const modelsDir = join(root, 'models');
  makeModelsFolder(modelsDir);
  const app = await electron.launch({
    executablePath: binary.ok ? binary.path : undefined,
    args: [REPO_ROOT, '--data', join(root, 'data')],
    env: { ...process.env, YOSO_MODELS_DIR: modelsDir },
  });
  try {
    const page = await app.firstWindow();
    await expect(page.getByRole('form', { name: 'Generate' })).toBeVisible();
    await page.getByLabel('Prompt', { exact: true }).fill('a red fox in the snow');
    await page.getByLabel('Size').selectOption('64x64');
    await page.keyboard.press('Control+Enter');
    await expect(page.locator('img.main-image')).toHaveAttribute('src', /^yoso-file:\/\/data\//);
    const isolated = await page.evaluate(() => typeof (globalThis as { require?: unknown }).require === 'undefined');
    expect(isolated).toBe(true);
  } finally {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  }
});
