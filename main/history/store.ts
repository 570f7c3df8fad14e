// The history store: one SQLite file (WAL, synchronous=FULL, foreign keys) plus image files.
// Order of a save: PNG with metadata -> temp, fsync, rename; thumbnail the same; fsync folders;
// then the rows in one transaction. So a row never points at a file that was not fully written,
// and a file without a row is re-imported by reconcile from the metadata inside it.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { GenerationRequest, MAX_SEED } from '../contract/generation.ts';
import { embedMetadata, metadataChunks, readPngParameters, YOSO_FORMAT, type YosoImageMetadata } from '../png-metadata/index.ts';
import { syncDirectory, writeFileAtomic } from './atomic-file.ts';
import type { HistoryStore, OpenHistoryOptions } from './index.ts';
import {
  DATABASE_FILE,
  IMAGES_DIR,
  THUMBNAILS_DIR,
  imagePathFor,
  thumbnailPathFor,
  toAbsolute,
} from './layout.ts';
import { migrate } from './migrations/index.ts';
import { decodeToRgb8, type Rgb8Image } from './pixels.ts';
import { insertAfterHeader } from '../png-metadata/chunks.ts';
import { encodeForHistory, encodeThumbnail } from './encode-image.ts';
import { countImages, listImages, SELECT_ITEM } from './queries.ts';
import { reconcileDataFolder } from './reconcile.ts';
import { INSERT_SQL, type ImageRow, type NewImageRow, rowFromMetadata, rowToItem } from './rows.ts';
import type {
  DeleteReceipt,
  HistoryItem,
  HistoryPage,
  HistoryQuery,
  ImportResult,
  PixelImage,
  ReconcileReport,
  SaveGenerationInput,
} from './types.ts';

export const APP_VERSION = 'YOSO Studio 0.1.0';
/** Deleted items stay restorable (undo, or the trash) this long before their files are removed. */
export const DEFAULT_TRASH_DAYS = 30;

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: a committed save survives a power cut, not only a crash of the app.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The per-image record: seed and the request that makes exactly this image again. */
export function imageMetadata(
  input: SaveGenerationInput,
  batchRequest: GenerationRequest,
  batchIndex: number,
  id: string,
  createdAt: string,
  batchId: string,
): YosoImageMetadata {
  const seed = batchRequest.sharedNoise ? batchRequest.seed : batchRequest.seed + batchIndex;
  if (seed > MAX_SEED) throw new Error(`seed ${batchRequest.seed} + batch index ${batchIndex} exceeds the largest seed`);
  // With shared noise image i depends on the whole batch, so only the batch request remakes it.
  const request = batchRequest.sharedNoise ? batchRequest : { ...batchRequest, seed, batchSize: 1 };
  const lora = batchRequest.lora;
  return {
    format: YOSO_FORMAT,
    id,
    createdAt,
    request,
    seed,
    batch: { id: batchId, index: batchIndex, request: batchRequest },
    baseModel: {
      id: input.baseModel.id,
      name: input.baseModel.name ?? input.baseModel.id,
      hash: input.baseModel.hash ?? null,
    },
    lora: lora
      ? {
          id: lora.id,
          name: input.lora?.name ?? lora.id,
          hash: input.lora?.hash ?? null,
          scale: lora.scale,
        }
      : null,
    provider: input.provider,
    timingsMs: input.timingsMs,
    app: APP_VERSION,
  };
}

class SqliteHistoryStore implements HistoryStore {
  startupReconcile: ReconcileReport | null = null;
  startupPurged = 0;
  reconciled: Promise<ReconcileReport | null> = Promise.resolve(null);
  /** Saves and imports wait for the open-time reconcile: it must not see a file whose row is not in yet. */
  private writesAllowed: Promise<void> = Promise.resolve();
  private readonly insert: Database.Statement;

  constructor(
    readonly dataDir: string,
    readonly db: Database.Database,
  ) {
    this.insert = db.prepare(INSERT_SQL);
  }

  absolutePath(relativePath: string): string {
    return toAbsolute(this.dataDir, relativePath);
  }

  /** Writes the PNG, then its thumbnail, durably; returns the thumbnail path. */
  private async writeImageFiles(imagePath: string, png: Uint8Array, thumbnailPng: Uint8Array): Promise<string> {
    const absolute = this.absolutePath(imagePath);
    await fs.mkdir(dirname(absolute), { recursive: true });
    await writeFileAtomic(absolute, png);
    return this.writeThumbnailPng(imagePath, thumbnailPng);
  }

  async writeThumbnail(imagePath: string, pixels: Rgb8Image): Promise<string> {
    return this.writeThumbnailPng(imagePath, await encodeThumbnail(pixels));
  }

  private async writeThumbnailPng(imagePath: string, thumbnailPng: Uint8Array): Promise<string> {
    const thumbPath = thumbnailPathFor(imagePath);
    const absolute = this.absolutePath(thumbPath);
    await fs.mkdir(dirname(absolute), { recursive: true });
    await writeFileAtomic(absolute, thumbnailPng, { overwrite: true });
    return thumbPath;
  }

  private async syncFolders(paths: Iterable<string>) {
    const dirs = new Set<string>();
    for (const p of paths) dirs.add(dirname(this.absolutePath(p)));
    for (const dir of dirs) await syncDirectory(dir);
  }

  insertRows(rows: NewImageRow[]): void {
    this.db.transaction(() => {
      for (const row of rows) this.insert.run(row);
    })();
  }

  async saveGeneration(input: SaveGenerationInput): Promise<HistoryItem[]> {
    const batchRequest = GenerationRequest.parse(input.request);
    if (input.images.length === 0) return [];
    await this.writesAllowed;
    const createdAt = (input.createdAt ?? new Date()).toISOString();
    const batchId = input.batchId ?? randomUUID();
    const rows: NewImageRow[] = [];
    const written: string[] = [];
    try {
      for (const image of input.images) {
        const encoded = image.encoded ?? (await encodeForHistory(checkedPixels(image)));
        const id = randomUUID();
        const meta = imageMetadata(input, batchRequest, image.batchIndex, id, createdAt, batchId);
        // Adding the text chunks copies the PNG once; its pixels are not encoded again.
        const png = insertAfterHeader(encoded.png, metadataChunks(meta));
        const imagePath = imagePathFor(createdAt, id);
        written.push(imagePath);
        const thumbPath = await this.writeImageFiles(imagePath, png, encoded.thumbnailPng);
        written.push(thumbPath);
        rows.push(rowFromMetadata(meta, imagePath, thumbPath));
      }
      await this.syncFolders(written);
      // Images of one batch share createdAt and the gallery breaks ties newest-rowid first:
      // inserting the last image first shows the batch in its own order (0, 1, 2, ...).
      this.insertRows([...rows].reverse());
    } catch (error) {
      // Nothing was reported saved: take back the files of this batch so no orphan is left.
      await Promise.all(written.map((p) => fs.rm(this.absolutePath(p), { force: true })));
      throw error;
    }
    return rows.map((r) => this.getOrThrow(r.id));
  }

  private row(id: string, includeDeleted = false): ImageRow | undefined {
    const extra = includeDeleted ? '' : ' AND i.deleted_at IS NULL';
    return this.db.prepare(`${SELECT_ITEM} WHERE i.id = ?${extra}`).get(id) as ImageRow | undefined;
  }

  get(id: string): HistoryItem | null {
    const row = this.row(id);
    return row ? rowToItem(row) : null;
  }

  private getOrThrow(id: string): HistoryItem {
    const item = this.get(id);
    if (!item) throw new NotFoundError(`no history item with id ${id}`);
    return item;
  }

  list(query: HistoryQuery = {}): HistoryPage {
    return listImages(this.db, query);
  }

  count(query: HistoryQuery = {}): number {
    return countImages(this.db, query);
  }

  setFavourite(id: string, favourite: boolean): HistoryItem {
    const info = this.db
      .prepare('UPDATE images SET favourite = ? WHERE id = ? AND deleted_at IS NULL')
      .run(favourite ? 1 : 0, id);
    if (info.changes === 0) throw new NotFoundError(`no history item with id ${id}`);
    return this.getOrThrow(id);
  }

  setTags(id: string, tags: string[]): HistoryItem {
    const row = this.row(id);
    if (!row) throw new NotFoundError(`no history item with id ${id}`);
    const clean = [...new Set(tags.map((t) => t.trim()).filter(Boolean))];
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM image_tags WHERE image_rowid = ?').run(row.rowid);
      const add = this.db.prepare('INSERT OR IGNORE INTO image_tags (image_rowid, tag) VALUES (?, ?)');
      for (const tag of clean) add.run(row.rowid, tag);
    })();
    return this.getOrThrow(id);
  }

  delete(ids: string[]): DeleteReceipt {
    const token = randomUUID();
    const now = new Date().toISOString();
    const mark = this.db.prepare(
      'UPDATE images SET deleted_at = ?, delete_token = ? WHERE id = ? AND deleted_at IS NULL',
    );
    let deleted = 0;
    this.db.transaction(() => {
      for (const id of ids) deleted += mark.run(now, token, id).changes;
    })();
    return { undoToken: token, deleted };
  }

  undoDelete(undoToken: string): { restored: number; ids: string[] } {
    const rows = this.db
      .prepare('UPDATE images SET deleted_at = NULL, delete_token = NULL WHERE delete_token = ? RETURNING id')
      .all(undoToken) as Array<{ id: string }>;
    return { restored: rows.length, ids: rows.map((r) => r.id) };
  }

  async purgeDeleted(olderThan?: Date): Promise<{ purged: number }> {
    const cutoff = olderThan ? olderThan.toISOString() : '9999-12-31T23:59:59.999Z';
    const rows = this.db
      .prepare('SELECT id, image_path, thumbnail_path FROM images WHERE deleted_at IS NOT NULL AND deleted_at < ?')
      .all(cutoff) as Array<Pick<ImageRow, 'id' | 'image_path' | 'thumbnail_path'>>;
    let purged = 0;
    for (const row of rows) {
      // Row first: a crash after it leaves a file that reconcile would re-import, never a row without its file.
      this.db.prepare('DELETE FROM images WHERE id = ?').run(row.id);
      for (const p of [row.image_path, row.thumbnail_path]) if (p) await fs.rm(this.absolutePath(p), { force: true });
      purged++;
    }
    return { purged };
  }

  reuse(id: string): GenerationRequest {
    return this.getOrThrow(id).request;
  }

  async importPng(source: Uint8Array | string): Promise<ImportResult> {
    await this.writesAllowed;
    const bytes = typeof source === 'string' ? new Uint8Array(await fs.readFile(source)) : source;
    const parsed = readPngParameters(bytes);
    const pixels = decodeToRgb8(bytes);
    const createdAt = new Date().toISOString();
    const id = randomUUID();
    const meta = importedMetadata(parsed, id, createdAt);
    const imagePath = imagePathFor(createdAt, id);
    // Keep the file's own chunks (its A1111/ComfyUI text) and add ours, so a re-import is exact.
    const png = parsed.yoso ? bytes : embedMetadataKeepingForeign(bytes, meta);
    const written = [imagePath];
    try {
      written.push(await this.writeImageFiles(imagePath, png, await encodeThumbnail(pixels)));
      await this.syncFolders(written);
      this.insertRows([rowFromMetadata(meta, imagePath, thumbnailPathFor(imagePath))]);
    } catch (error) {
      await Promise.all(written.map((p) => fs.rm(this.absolutePath(p), { force: true })));
      throw error;
    }
    return { item: this.getOrThrow(id), source: parsed.source, warnings: parsed.warnings };
  }

  /** Adds a row for a PNG already inside images/ (used by reconcile). */
  async adoptFile(imagePath: string, bytes: Uint8Array): Promise<string> {
    const parsed = readPngParameters(bytes);
    const idTaken = (id: string) => this.row(id, true) !== undefined;
    const id = parsed.yoso && !idTaken(parsed.yoso.id) ? parsed.yoso.id : randomUUID();
    const meta = importedMetadata(parsed, id, parsed.yoso?.createdAt ?? (await fs.stat(this.absolutePath(imagePath))).mtime.toISOString());
    const thumbPath = thumbnailPathFor(imagePath);
    const thumbExists = await fs.access(this.absolutePath(thumbPath)).then(() => true, () => false);
    if (!thumbExists) await this.writeThumbnail(imagePath, decodeToRgb8(bytes));
    this.insertRows([rowFromMetadata(meta, imagePath, thumbPath)]);
    return id;
  }

  async reconcile(): Promise<ReconcileReport> {
    return reconcileDataFolder(this);
  }

  /** Reconciles files and rows, then purges the trash older than `trashDays` (0 keeps it). */
  async startupMaintenance(trashDays: number): Promise<ReconcileReport> {
    this.startupReconcile = await this.reconcile();
    if (trashDays > 0) this.startupPurged = (await this.purgeDeleted(new Date(Date.now() - trashDays * 86_400_000))).purged;
    return this.startupReconcile;
  }

  /** Runs startupMaintenance without waiting for it; saves and imports queue behind it. */
  maintainInBackground(trashDays: number): void {
    this.reconciled = this.startupMaintenance(trashDays);
    this.writesAllowed = this.reconciled.then(
      () => {},
      () => {},
    );
  }

  close(): void {
    this.db.close();
  }
}

function checkedPixels(image: PixelImage): Rgb8Image {
  const expected = image.width * image.height * image.channels;
  if (image.pixels.length !== expected) {
    throw new Error(`image ${image.batchIndex} has ${image.pixels.length} bytes, expected ${image.width}x${image.height}x${image.channels} = ${expected}`);
  }
  return { width: image.width, height: image.height, channels: image.channels, data: image.pixels };
}

/** Our record for an image that came from elsewhere (or from our own metadata, with a fresh id if needed). */
function importedMetadata(
  parsed: ReturnType<typeof readPngParameters>,
  id: string,
  createdAt: string,
): YosoImageMetadata {
  if (parsed.yoso) return { ...parsed.yoso, id, createdAt: parsed.yoso.id === id ? parsed.yoso.createdAt : createdAt };
  const r = parsed.request;
  return {
    format: YOSO_FORMAT,
    id,
    createdAt,
    request: { ...r, batchSize: 1 },
    seed: r.seed,
    batch: { id: `import-${id}`, index: 0, request: { ...r, batchSize: 1 } },
    baseModel: { id: r.baseModelId, name: parsed.model?.name || r.baseModelId, hash: parsed.model?.hash ?? null },
    lora: r.lora
      ? { id: r.lora.id, name: parsed.lora?.name ?? r.lora.id, hash: parsed.lora?.hash ?? null, scale: r.lora.scale }
      : null,
    provider: `imported (${parsed.source})`,
    timingsMs: {},
    app: APP_VERSION,
  };
}

function embedMetadataKeepingForeign(bytes: Uint8Array, meta: YosoImageMetadata): Uint8Array {
  return embedMetadata(bytes, meta, { parameters: false });
}

export type { SqliteHistoryStore };

export async function openHistory(options: OpenHistoryOptions): Promise<HistoryStore & SqliteHistoryStore> {
  const { dataDir } = options;
  try {
    for (const dir of [dataDir, toAbsolute(dataDir, IMAGES_DIR), toAbsolute(dataDir, THUMBNAILS_DIR)]) {
      mkdirSync(dir, { recursive: true });
    }
  } catch (error) {
    throw new Error(
      `cannot use ${dataDir} as the data folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        'choose a writable folder with --data DIR or YOSO_STUDIO_DATA',
    );
  }
  const file = toAbsolute(dataDir, DATABASE_FILE);
  let db: Database.Database;
  try {
    db = openDatabase(file);
  } catch (error) {
    throw new Error(
      `cannot open the history database ${file}: ${(error as Error).message}. ` +
        'If it is damaged, move it aside: the images stay in the folder and are re-imported from their metadata at the next start',
    );
  }
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const store = new SqliteHistoryStore(dataDir, db);
  const days = options.trashDays ?? DEFAULT_TRASH_DAYS;
  if (options.reconcile === 'background') store.maintainInBackground(days);
  else if (options.reconcile !== false) store.reconciled = Promise.resolve(await store.startupMaintenance(days));
  return store;
}
