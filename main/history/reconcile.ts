// Start-up reconcile: make rows and files agree without deleting anything the user could want.
// - temp files of writers that are no longer running: removed (never reported saved), listed
// - rows whose image is gone: flagged `missing` (shown in the gallery), listed; unflagged if back
// - rows whose thumbnail is gone: thumbnail rebuilt from the image
// - PNGs with no row: re-imported from their embedded metadata; unreadable ones listed, left alone
// - thumbnails with neither row nor image: removed (derived data), listed
import type Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive, tempFileOwner } from './atomic-file.ts';
import { IMAGES_DIR, THUMBNAILS_DIR, thumbnailPathFor } from './layout.ts';
import { decodeToRgb8 } from './pixels.ts';
import type { ReconcileReport } from './types.ts';

export interface ReconcileTarget {
  dataDir: string;
  db: Database.Database;
  absolutePath(relative: string): string;
  adoptFile(imagePath: string, bytes: Uint8Array): Promise<string>;
  writeThumbnail(imagePath: string, pixels: ReturnType<typeof decodeToRgb8>): Promise<string>;
}

/** Relative '/'-paths of all files under `top` (a folder inside the data folder). */
async function walk(dataDir: string, top: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    let entries;
    try {
      entries = await fs.readdir(join(dataDir, ...rel.split('/')), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) await visit(child);
      else if (e.isFile()) out.push(child);
    }
  };
  await visit(top);
  return out;
}

const exists = (path: string) => fs.access(path).then(() => true, () => false);

export async function reconcileDataFolder(store: ReconcileTarget): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    missing: [],
    found: [],
    reimported: [],
    unreadable: [],
    removedTempFiles: [],
    thumbnailsRebuilt: 0,
    removedThumbnails: [],
  };
  const files = [...(await walk(store.dataDir, IMAGES_DIR)), ...(await walk(store.dataDir, THUMBNAILS_DIR))];
  const present = new Set<string>();
  for (const file of files) {
    const owner = tempFileOwner(file);
    if (owner === null) present.add(file);
    else if (!isProcessAlive(owner)) {
      await fs.rm(store.absolutePath(file), { force: true });
      report.removedTempFiles.push(file);
    }
  }

  const rows = store.db
    .prepare('SELECT id, image_path, thumbnail_path, missing FROM images')
    .all() as Array<{ id: string; image_path: string; thumbnail_path: string | null; missing: 0 | 1 }>;
  const setMissing = store.db.prepare('UPDATE images SET missing = ? WHERE id = ?');
  const setThumb = store.db.prepare('UPDATE images SET thumbnail_path = ? WHERE id = ?');
  const claimed = new Set<string>();
  for (const row of rows) {
    claimed.add(row.image_path);
    if (row.thumbnail_path) claimed.add(row.thumbnail_path);
    const isThere = present.has(row.image_path);
    if (!isThere && row.missing === 0) {
      setMissing.run(1, row.id);
      report.missing.push(row.id);
    } else if (isThere && row.missing === 1) {
      setMissing.run(0, row.id);
      report.found.push(row.id);
    }
    if (isThere && (!row.thumbnail_path || !present.has(row.thumbnail_path))) {
      try {
        const bytes = await fs.readFile(store.absolutePath(row.image_path));
        const thumb = await store.writeThumbnail(row.image_path, decodeToRgb8(bytes));
        setThumb.run(thumb, row.id);
        claimed.add(thumb);
        report.thumbnailsRebuilt++;
      } catch {
        // An undecodable image keeps its row; the gallery shows it without a thumbnail.
      }
    }
  }

  for (const file of present) {
    if (claimed.has(file) || !file.startsWith(`${IMAGES_DIR}/`)) continue;
    if (!file.toLowerCase().endsWith('.png')) {
      report.unreadable.push(file);
      continue;
    }
    try {
      const bytes = new Uint8Array(await fs.readFile(store.absolutePath(file)));
      report.reimported.push(await store.adoptFile(file, bytes));
      claimed.add(thumbnailPathFor(file));
    } catch {
      report.unreadable.push(file);
    }
  }

  for (const file of present) {
    if (!file.startsWith(`${THUMBNAILS_DIR}/`) || claimed.has(file)) continue;
    const image = IMAGES_DIR + file.slice(THUMBNAILS_DIR.length);
    if (await exists(store.absolutePath(image))) continue;
    await fs.rm(store.absolutePath(file), { force: true });
    report.removedThumbnails.push(file);
  }
  return report;
}
