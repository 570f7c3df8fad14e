// "Is this a file inside that folder?" after resolving symlinks: the one check behind serve's
// /files and renderer routes and the desktop app's yoso-app:// and yoso-file:// protocols.
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

export type FileInside = { ok: true; path: string; size: number } | { ok: false; reason: 'missing' | 'outside' | 'not-a-file' };

/**
 * The real path and size of the file `root/segments…` when it exists and, symlinks resolved,
 * stays inside the real `root`; else why not (leading out by "..", an absolute part or a symlink
 * is 'outside').
 */
export async function fileInside(root: string, segments: readonly string[]): Promise<FileInside> {
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(join(realRoot, ...segments));
  } catch {
    return { ok: false, reason: 'missing' };
  }
  if (!real.startsWith(realRoot + sep)) return { ok: false, reason: 'outside' };
  const info = await stat(real).catch(() => null);
  if (!info) return { ok: false, reason: 'missing' };
  return info.isFile() ? { ok: true, path: real, size: info.size } : { ok: false, reason: 'not-a-file' };
}
