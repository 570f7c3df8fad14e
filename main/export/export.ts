// Batch export of gallery images to a folder or a .zip, with a manifest (CSV + JSON).
// Never overwrites, streams the zip, reports progress, honours an AbortSignal, and on any failure
// returns a report of exactly what was exported (a failed zip is removed entirely).
import { promises as fs } from 'node:fs';
import type { HistoryItem, HistoryQuery, HistoryStore } from '../history/index.ts';
import { stripMetadataChunks } from '../png-metadata/index.ts';
import { DEFAULT_TEMPLATE, renderName, validateTemplate } from './file-names.ts';
import { manifestCsv, manifestJson, manifestRow, type ManifestRow } from './manifest.ts';
import { describeFsError, ExportTargetError, openFolderSink, openZipSink, type ExportSink } from './sinks.ts';

export type ExportSelection = { ids: string[] } | { query: Omit<HistoryQuery, 'cursor' | 'limit'> } | { day: string };

export interface ExportOptions {
  selection: ExportSelection;
  /** A folder, or a file path ending in .zip. */
  to: string;
  nameTemplate?: string;
  stripMetadata?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
}

export interface ExportProgress {
  done: number;
  total: number;
  file: string | null;
}

export interface ExportResult {
  state: 'done' | 'cancelled' | 'failed';
  /** The folder or .zip; for a failed or cancelled zip export it does not exist. */
  to: string;
  kind: 'folder' | 'zip';
  total: number;
  /** Files that are in the target now (for a failed/cancelled zip: none). */
  exported: Array<{ id: string; file: string }>;
  /** Images that could not be read (file vanished or unreadable): left out, named here. */
  skipped: Array<{ id: string; reason: string }>;
  /** Manifest file names, when written. */
  manifest: { csv: string; json: string } | null;
  error: string | null;
}

/** Local calendar day `YYYY-MM-DD` -> [since, until) as ISO times. */
export function dayRange(day: string): { since: string; until: string } {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new Error(`a day must be written YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const start = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1);
  return { since: start.toISOString(), until: end.toISOString() };
}

function selectionQuery(selection: ExportSelection): HistoryQuery | null {
  if ('ids' in selection) return null;
  if ('day' in selection) return dayRange(selection.day);
  return selection.query;
}

/** Items of the selection, newest first, a page at a time (never the whole gallery in memory). */
async function* selectedItems(store: HistoryStore, selection: ExportSelection): AsyncGenerator<HistoryItem | { notFound: string }> {
  const query = selectionQuery(selection);
  if (!query) {
    for (const id of (selection as { ids: string[] }).ids) yield store.get(id) ?? { notFound: id };
    return;
  }
  let cursor: string | undefined;
  do {
    const page = store.list({ ...query, cursor, limit: 200 });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export function countSelection(store: HistoryStore, selection: ExportSelection): number {
  const query = selectionQuery(selection);
  return query ? store.count(query) : (selection as { ids: string[] }).ids.length;
}

const isZipPath = (path: string) => /\.zip$/i.test(path);
const FOLDER_CONCURRENCY = 4;

export async function exportImages(store: HistoryStore, options: ExportOptions): Promise<ExportResult> {
  const template = options.nameTemplate ?? DEFAULT_TEMPLATE;
  validateTemplate(template);
  const kind = isZipPath(options.to) ? 'zip' : 'folder';
  const total = countSelection(store, options.selection);
  const result: ExportResult = {
    state: 'done',
    to: options.to,
    kind,
    total,
    exported: [],
    skipped: [],
    manifest: null,
    error: null,
  };
  let sink: ExportSink;
  try {
    sink = kind === 'zip' ? await openZipSink(options.to) : await openFolderSink(options.to);
  } catch (error) {
    return { ...result, state: 'failed', error: (error as Error).message };
  }
  // Folder files are independent, so a few are written at once: their fsyncs overlap.
  // Zip entries are sequential by nature (the sink applies its own backpressure).
  const concurrency = kind === 'folder' ? FOLDER_CONCURRENCY : 1;
  const done: Array<{ id: string; file: string; row: ManifestRow } | undefined> = [];
  const inFlight = new Set<Promise<void>>();
  let writeFailure: { error: unknown } | null = null;
  let finished = 0;
  const progress = (file: string | null) => options.onProgress?.({ done: finished, total, file });
  const skip = (id: string, reason: string) => {
    result.skipped.push({ id, reason });
    finished++;
    progress(null);
  };
  const collect = () => {
    const complete = done.filter((d) => d !== undefined);
    result.exported = complete.map(({ id, file }) => ({ id, file }));
    return complete.map((d) => d.row);
  };
  progress(null);
  let index = 0;
  try {
    for await (const item of selectedItems(store, options.selection)) {
      if (options.signal?.aborted || writeFailure) break;
      const position = index++;
      if ('notFound' in item) {
        skip(item.notFound, 'not in the gallery (deleted, or a wrong id)');
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await fs.readFile(store.absolutePath(item.imagePath)));
        if (options.stripMetadata) bytes = stripMetadataChunks(bytes);
      } catch (error) {
        skip(item.id, describeSourceError(error, item));
        continue;
      }
      const task = sink
        .add(renderName(template, item, position, total), '.png', bytes, new Date(item.createdAt))
        .then(
          (file) => {
            done[position] = { id: item.id, file, row: manifestRow(file, item) };
            finished++;
            progress(file);
          },
          (error: unknown) => {
            writeFailure ??= { error };
          },
        )
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (writeFailure) throw (writeFailure as { error: unknown }).error;
    if (options.signal?.aborted) throw new CancelledError();
    result.manifest = await writeManifest(sink, collect());
    await sink.finish();
    return result;
  } catch (error) {
    await Promise.all(inFlight);
    await sink.abort();
    const rows = collect();
    result.state = error instanceof CancelledError ? 'cancelled' : 'failed';
    result.error = error instanceof CancelledError ? null : errorMessage(error, options.to);
    if (kind === 'zip') {
      result.exported = [];
      result.manifest = null;
    } else if (rows.length > 0 && !result.manifest) {
      // The folder keeps the complete files; a manifest tells what they are (best effort: the disk may be full).
      result.manifest = await writeManifest(sink, rows).catch(() => null);
    }
    return result;
  }
}

class CancelledError extends Error {}

function errorMessage(error: unknown, target: string): string {
  return error instanceof ExportTargetError ? error.message : describeFsError(error, target);
}

function describeSourceError(error: unknown, item: HistoryItem): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `the image file ${item.imagePath} is gone (moved or deleted outside the app)`;
  return `could not read ${item.imagePath}: ${(error as Error).message}`;
}

async function writeManifest(sink: ExportSink, rows: ManifestRow[]): Promise<NonNullable<ExportResult['manifest']>> {
  return {
    csv: await sink.add('manifest', '.csv', Buffer.from(manifestCsv(rows)), new Date()),
    json: await sink.add('manifest', '.json', Buffer.from(manifestJson(rows)), new Date()),
  };
}
