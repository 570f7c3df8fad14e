// IPC for the one bridge object: every call goes through the same dispatch as HTTP (contract
// validation, ApiError shape), and only from our own page in our own window.
import { ipcMain, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { APP_PROTOCOL, IPC, type BridgeResult } from '../contract/bridge.ts';
import { dispatch } from '../api/dispatch.ts';
import type { Studio } from '../api/studio.ts';
import { resolveDataFile } from '../server/files.ts';

export function isTrustedSender(event: IpcMainInvokeEvent, allowed: ReadonlySet<WebContents>): boolean {
  const frame = event.senderFrame;
  if (!allowed.has(event.sender) || !frame || frame.parent !== null) return false;
  try {
    return new URL(frame.url).protocol === `${APP_PROTOCOL}:`;
  } catch {
    return false;
  }
}

const refused: BridgeResult = { ok: false, error: { code: 'invalid_input', message: 'this page may not call the studio' } };

export function registerIpc(studio: Studio, windows: ReadonlySet<WebContents>): () => void {
  ipcMain.handle(IPC.call, async (event, name: unknown, input: unknown): Promise<BridgeResult> => {
    if (!isTrustedSender(event, windows)) return refused;
    if (typeof name !== 'string') return { ok: false, error: { code: 'invalid_input', message: 'command name must be a string' } };
    const result = await dispatch(studio.handlers, name, input);
    return result.ok ? { ok: true, value: result.output } : result;
  });
  ipcMain.handle(IPC.showItemInFolder, async (event, relativePath: unknown): Promise<BridgeResult> => {
    if (!isTrustedSender(event, windows)) return refused;
    if (typeof relativePath !== 'string') return { ok: false, error: { code: 'invalid_input', message: 'path must be a string' } };
    const lookup = await resolveDataFile(studio.dataDir, relativePath.split('/').map(encodeURIComponent).join('/'));
    if (!lookup.ok) return { ok: false, error: { code: 'not_found', message: lookup.message } };
    shell.showItemInFolder(lookup.path);
    return { ok: true, value: null };
  });
  const unsubscribe = studio.events.subscribe(({ name, payload }) => {
    for (const contents of windows) if (!contents.isDestroyed()) contents.send(IPC.event, name, payload);
  });
  return () => {
    unsubscribe();
    ipcMain.removeHandler(IPC.call);
    ipcMain.removeHandler(IPC.showItemInFolder);
  };
}
