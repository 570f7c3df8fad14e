// History library: the one entry point the server, jobs, HTTP API and UI handlers use.
//
//   const history = await openHistory({ dataDir });        // migrates, then reconciles files and rows
//   const items = await history.saveGeneration({ request, images, provider, timingsMs, baseModel, lora });
//   history.list({ search: 'cat', favouritesOnly: true, limit: 50 }) -> { items, nextCursor, total }
//   history.get(id) / setFavourite(id, on) / delete(ids) -> { undoToken } / undoDelete(token)
//   history.reuse(id) -> GenerationRequest
//   await history.importPng(bytesOrPath) -> { item, source, warnings }
//   history.close()
//
// Writes are crash-safe: PNG and thumbnail go to temp files, are fsynced and renamed into place,
// and only then is the row inserted (one transaction per batch). A saved item is durable once
// saveGeneration resolves.
import type { GenerationRequest } from '../contract/generation.ts';
import type {
  DeleteReceipt,
  HistoryItem,
  HistoryPage,
  HistoryQuery,
  ImportResult,
  ReconcileReport,
  SaveGenerationInput,
} from './types.ts';

export type * from './types.ts';

export interface HistoryStore {
  readonly dataDir: string;
  /** Report of the reconcile run at open (null when opened with reconcile: false). */
  readonly startupReconcile: ReconcileReport | null;
  saveGeneration(input: SaveGenerationInput): Promise<HistoryItem[]>;
  get(id: string): HistoryItem | null;
  list(query?: HistoryQuery): HistoryPage;
  count(query?: HistoryQuery): number;
  setFavourite(id: string, favourite: boolean): HistoryItem;
  setTags(id: string, tags: string[]): HistoryItem;
  /** Hides the items at once; files stay until purgeDeleted, so undo restores everything. */
  delete(ids: string[]): DeleteReceipt;
  undoDelete(undoToken: string): { restored: number };
  /** Removes files and rows of items deleted before `olderThan` (default: all deleted). */
  purgeDeleted(olderThan?: Date): Promise<{ purged: number }>;
  /** The request that makes exactly this image again (batchSize 1 unless it used shared noise). */
  reuse(id: string): GenerationRequest;
  /** Copies a PNG (ours, A1111 or ComfyUI) into the gallery with the parameters it carries. */
  importPng(source: Uint8Array | string): Promise<ImportResult>;
  reconcile(): Promise<ReconcileReport>;
  /** Absolute path of a stored relative path. */
  absolutePath(relativePath: string): string;
  close(): void;
}

export interface OpenHistoryOptions {
  dataDir: string;
  /** Reconcile rows and files at open (default true). */
  reconcile?: boolean;
}

export { openHistory } from './store.ts';
