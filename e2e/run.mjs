// `npm run test:e2e`: build the renderer, then the Playwright specs (Chromium against a real serve;
// Electron where its binary is installed, skipped with the reason printed where it is not).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { electronBinary } from '../scripts/electron-binary.mjs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e: no Chromium at ${chromium}. Install Debian's (apt-get install chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}

if (run('npm', ['run', '--silent', 'build:renderer']) !== 0) process.exit(1);

const binary = electronBinary(createRequire(import.meta.url));
if (binary.ok) {
  if (run('npm', ['run', '--silent', 'build:electron']) !== 0) process.exit(1);
} else {
  console.log(`e2e: the Electron spec will skip: ${binary.reason}.`);
}

process.exit(run('npx', ['playwright', 'test', '-c', 'e2e/playwright.config.ts', ...process.argv.slice(2)]));
