// `npm start`: the desktop app where Electron's binary is installed; where it is not, say so and
// point at `npm run serve`, the same studio in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { electronBinary } from './electron-binary.mjs';

const binary = electronBinary(createRequire(import.meta.url));
if (!binary.ok) {
  console.error(`YOSO Studio: the desktop app cannot start here: ${binary.reason}.

Use the same studio in your browser instead:
  npm run build:renderer
  npm run serve -- --data ~/yoso-data      # then open http://127.0.0.1:7860

To get the desktop app, install Electron's binary (needs internet):
  npm rebuild electron   (or: npm ci without ELECTRON_SKIP_BINARY_DOWNLOAD)`);
  process.exit(1);
}

for (const [script, output] of [
  ['build:renderer', 'renderer/dist/index.html'],
  ['build:electron', 'out/electron/main.js'],
]) {
  if (existsSync(output) && !process.argv.includes('--rebuild')) continue;
  const result = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const args = ['.', ...process.argv.slice(2).filter((a) => a !== '--rebuild')];
const child = spawn(binary.path, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
