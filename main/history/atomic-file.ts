// Durable writes: temp file in the target folder -> write -> fsync -> rename -> fsync the folder.
// A crash at any point leaves either no file or the whole file under its final name, plus at
// worst a temp file that reconcile recognises by its name and removes.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_MARK = '.tmp-';

/** `<name>.tmp-<pid>-<random>`: the pid lets reconcile leave a live writer's temp files alone. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Pid of the process that wrote a temp file, or null when `name` is not one of ours. */
export function tempFileOwner(name: string): number | null {
  const match = /\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name);
  return match ? Number(match[1]) : null;
}

export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes `bytes` to `path` atomically; refuses to replace an existing file unless `overwrite`. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, options: { overwrite?: boolean } = {}) {
  const temp = tempPathFor(path);
  const handle = await fs.open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.overwrite) await fs.rename(temp, path);
    else {
      // link() fails with EEXIST instead of replacing: no race between "exists?" and "rename".
      await fs.link(temp, path);
      await fs.unlink(temp);
    }
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Makes renames inside `dir` durable (no-op where directories cannot be opened, e.g. Windows). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
