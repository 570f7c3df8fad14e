// The one object the Electron preload exposes on window (contextBridge), typed for both sides.
// Answers come back as a result union so that the contract's error shape survives IPC intact.
import type { ApiError, CommandName, EventName } from './api.ts';

export type BridgeResult = { ok: true; value: unknown } | { ok: false; error: ApiError };

export interface YosoBridge {
  call(name: CommandName, input: unknown): Promise<BridgeResult>;
  on(name: EventName, listener: (payload: unknown) => void): () => void;
  /** Shows the file in the system file manager (desktop only). */
  showItemInFolder(relativePath: string): Promise<BridgeResult>;
}

export const BRIDGE_KEY = 'yoso';
export const FILE_PROTOCOL = 'yoso-file';
export const APP_PROTOCOL = 'yoso-app';

/** IPC channel names between the preload and the main process. */
export const IPC = {
  call: 'yoso:call',
  event: 'yoso:event',
  showItemInFolder: 'yoso:show-item-in-folder',
} as const;
