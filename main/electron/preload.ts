// The preload (sandboxed, context-isolated): exposes exactly one object, window.yoso, whose three
// functions forward to IPC. No Node, no ipcRenderer, no event objects ever reach the page.
// Bundled to CommonJS by scripts/build-electron.mjs (sandboxed preloads cannot load ES modules).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_KEY, IPC, type BridgeResult, type YosoBridge } from '../contract/bridge.ts';
import type { CommandName, EventName } from '../contract/api.ts';

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

ipcRenderer.on(IPC.event, (_event: IpcRendererEvent, name: EventName, payload: unknown) => {
  for (const listener of listeners.get(name) ?? []) listener(payload);
});

const bridge: YosoBridge = {
  call: (name: CommandName, input: unknown) => ipcRenderer.invoke(IPC.call, String(name), input) as Promise<BridgeResult>,
  on: (name: EventName, listener: (payload: unknown) => void) => {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const set = listeners.get(name) ?? new Set();
    listeners.set(name, set);
    set.add(listener);
    return () => void set.delete(listener);
  },
  showItemInFolder: (relativePath: string) =>
    ipcRenderer.invoke(IPC.showItemInFolder, String(relativePath)) as Promise<BridgeResult>,
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
