// Free-space check before a download starts: a user should hear "needs 4.1 GB, 2.0 GB free"
// up front, not find a full disk half-way.
import { statfs } from 'node:fs/promises';
import { PullError } from './types.ts';

/** Room kept free beyond the download itself (the OS and the app's history need some too). */
export const DISK_MARGIN_BYTES = 256 * 1024 * 1024;

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export async function assertRoomFor(dir: string, neededBytes: number, free?: number): Promise<void> {
  const available = free ?? (await freeBytes(dir));
  if (neededBytes + DISK_MARGIN_BYTES > available) {
    throw new PullError(
      'disk_full',
      `not enough disk space in ${dir}: the download needs ${formatBytes(neededBytes)} (+${formatBytes(DISK_MARGIN_BYTES)} to spare), ${formatBytes(available)} is free; free some space or choose another --models folder`,
    );
  }
}
