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
  /** Report of the reconcile run at open (null when opened with reconcile: false, or while it runs). */
  readonly startupReconcile: ReconcileReport | null;
  /** Settles when the open-time reconcile is done (at once unless opened with reconcile: 'background'). */
  readonly reconciled: Promise<ReconcileReport | null>;
  /** Items purged from the trash at open (deleted more than trashDays ago). */
  readonly startupPurged: number;
  saveGeneration(input: SaveGenerationInput): Promise<HistoryItem[]>;
  get(id: string): HistoryItem | null;
  list(query?: HistoryQuery): HistoryPage;
  count(query?: HistoryQuery): number;
  setFavourite(id: string, favourite: boolean): HistoryItem;
  setTags(id: string, tags: string[]): HistoryItem;
  /** Hides the items at once; files stay until purgeDeleted, so undo restores everything. */
  delete(ids: string[]): DeleteReceipt;
  /** Restores the items of one delete; `ids` says which (for a history.changed event). */
  undoDelete(undoToken: string): { restored: number; ids: string[] };
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
  /**
   * Reconcile rows and files at open (default true). Off for a second process (e.g. the export CLI).
   * 'background': open at once and reconcile meanwhile (a server can answer); saves wait for it.
   */
  reconcile?: boolean | 'background';
  /** Deleted items older than this many days are purged at open (default 30; 0 keeps them). */
  trashDays?: number;
}

export { openHistory, NotFoundError } from './store.ts';
export { InvalidQueryError } from './queries.ts';
/** Parameters of a dropped PNG (ours, A1111 or ComfyUI) without importing it. */
export { readPngParameters, NoParametersError, type ParsedPngParameters } from '../png-metadata/index.ts';
