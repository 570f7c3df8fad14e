// /files/<relative path>: images and thumbnails from the data folder, and nothing else. The path
// must stay inside the data folder after resolving symlinks; `..`, absolute paths, encoded
// separators and other file types are refused.
import type { ServerResponse } from 'node:http';
import { extname, isAbsolute } from 'node:path';
import { streamFile } from './http-util.ts';
import { fileInside } from './path-inside.ts';

const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

export type FileLookup = { ok: true; path: string; type: string; size: number } | { ok: false; status: number; message: string };

/** `encodedPath` is what follows `/files/` in the URL, still percent-encoded. */
export async function resolveDataFile(dataDir: string, encodedPath: string): Promise<FileLookup> {
  let relative: string;
  try {
    relative = decodeURIComponent(encodedPath);
  } catch {
    return { ok: false, status: 400, message: 'malformed path' };
  }
  const segments = relative.split('/');
  if (
    relative.length === 0 ||
    relative.includes('\0') ||
    relative.includes('\\') ||
    isAbsolute(relative) ||
    /^[a-zA-Z]:/.test(relative) ||
    segments.some((s) => s === '..' || s === '.' || s === '')
  ) {
    return { ok: false, status: 400, message: 'the path must be relative to the data folder, without "..", "." or empty parts' };
  }
  const type = TYPES[extname(relative).toLowerCase()];
  if (!type) return { ok: false, status: 403, message: 'only images are served from the data folder' };
  const file = await fileInside(dataDir, segments);
  if (file.ok) return { ok: true, path: file.path, type, size: file.size };
  if (file.reason === 'outside') return { ok: false, status: 403, message: 'the path leaves the data folder' };
  return { ok: false, status: 404, message: file.reason === 'not-a-file' ? 'not a file' : 'no such file in the data folder' };
}

export function sendFile(res: ServerResponse, file: { path: string; type: string; size: number }): void {
  streamFile(res, file.path, {
    'Content-Type': file.type,
    'Content-Length': file.size,
    // Images are immutable once saved (a new image gets a new name).
    'Cache-Control': 'private, max-age=31536000, immutable',
  });
}
