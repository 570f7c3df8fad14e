// The renderer picks its transport once, at start; nothing else knows which one it got.
import type { ApiClient } from '../../../main/contract/api.ts';
import { BRIDGE_KEY, type YosoBridge } from '../../../main/contract/bridge.ts';
import { ElectronClient } from './electron-client.ts';
import { HttpClient } from './http-client.ts';

export function pickClient(scope: object = globalThis): ApiClient {
  const bridge = (scope as Record<string, unknown>)[BRIDGE_KEY] as YosoBridge | undefined;
  return bridge ? new ElectronClient(bridge) : new HttpClient();
}

/** Desktop-only extras, found by feature rather than by transport name. */
export function canShowInFolder(api: ApiClient): api is ApiClient & { showItemInFolder(path: string): Promise<void> } {
  return typeof (api as Partial<ElectronClient>).showItemInFolder === 'function';
}
