// Where Electron's binary is, or why it is not usable (shared by `npm start` and the e2e runner).
// Reads the electron package's path.txt + dist/ directly: require('electron') would try to
// download the binary when it is missing, and nothing may download at start or test time.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** @param {NodeRequire} require */
export function electronBinary(require) {
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed (npm ci)' };
  }
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const path = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return existsSync(path) ? { ok: true, path } : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH has no Electron binary at ${path}` };
  }
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return { ok: false, reason: "Electron's binary is not installed (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline)" };
  }
  const path = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(path) ? { ok: true, path } : { ok: false, reason: `Electron's binary is missing at ${path}` };
}
