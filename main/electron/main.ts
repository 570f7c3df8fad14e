// Electron bootstrap: the same studio as `npm run serve` (handlers, queue, history), reached over
// IPC instead of HTTP, with inference in a utilityProcess. Built to out/electron by
// scripts/build-electron.mjs; `npm start` runs it.
import { app, BrowserWindow, utilityProcess, type WebContents } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_PROTOCOL } from '../contract/bridge.ts';
import { openStudio } from '../api/studio.ts';
import { modelsDirFor, resolveDataFolder } from '../data-folder.ts';
import { ElectronProcessHost } from '../inference/electron-process-host.ts';
import { registerIpc } from './ipc.ts';
import { handleProtocols, registerSchemes } from './protocols.ts';
import { createMainWindow, denyOtherPermissions } from './window.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const appRoot = join(here, '..', '..');

registerSchemes();
if (!app.requestSingleInstanceLock()) app.quit();

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = resolveDataFolder({ argv: process.argv.slice(1), electronUserData: app.getPath('userData') }).path;
  const modelsDir = modelsDirFor(dataDir);
  denyOtherPermissions();
  handleProtocols(join(appRoot, 'renderer', 'dist'), dataDir);
  const studio = await openStudio({
    dataDir,
    modelsDir,
    host: new ElectronProcessHost(utilityProcess),
    workerEntry: join(here, 'worker.js'),
  });
  const windows = new Set<WebContents>();
  const stopIpc = registerIpc(studio, windows);

  const open = () => {
    const window = createMainWindow(join(here, 'preload.cjs'));
    const contents = window.webContents;
    windows.add(contents);
    window.on('closed', () => windows.delete(contents));
    void window.loadURL(`${APP_PROTOCOL}://app/index.html`);
  };
  open();
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && open());
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    stopIpc();
    void studio.close();
  });
}

start().catch((error: unknown) => {
  console.error('YOSO Studio could not start:', error);
  app.exit(1);
});
