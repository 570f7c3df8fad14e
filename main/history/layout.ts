// Where files live inside the data folder. Stored paths are relative and '/'-separated so a data
// folder can move between machines and platforms.
import { join } from 'node:path';

export const DATABASE_FILE = 'history.sqlite';
export const IMAGES_DIR = 'images';
export const THUMBNAILS_DIR = 'thumbnails';
export const THUMBNAIL_SIDE = 256;

/** `images/2026-11-22/20261122-034615123-1a2b3c4d.png` (UTC day folders keep directories small). */
export function imagePathFor(createdAt: string, id: string): string {
  const day = createdAt.slice(0, 10);
  const stamp = createdAt.replace(/[-:T.Z]/g, '').slice(0, 17);
  return `${IMAGES_DIR}/${day}/${stamp.slice(0, 8)}-${stamp.slice(8)}-${id.replace(/-/g, '').slice(0, 8)}.png`;
}

/** The thumbnail mirrors the image's path under thumbnails/. */
export function thumbnailPathFor(imagePath: string): string {
  return THUMBNAILS_DIR + imagePath.slice(IMAGES_DIR.length);
}

export function toAbsolute(dataDir: string, relative: string): string {
  if (relative.split('/').includes('..')) throw new Error(`path leaves the data folder: ${relative}`);
  return join(dataDir, ...relative.split('/'));
}
