// Where exported files go. Both sinks never overwrite: a folder export picks `name (2).png` when a
// name is taken; a zip export refuses an existing .zip. Both leave nothing half-written: folder
// files are written to a temp name and linked into place, the zip is streamed to a hidden
// `.part` file that becomes the .zip only once complete and fsynced.
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { moveNoReplace, syncDirectory, writeFileAtomic } from '../history/atomic-file.ts';
import { candidateName } from './file-names.ts';

export interface ExportSink {
  /** Final path of the folder or .zip. */
  readonly path: string;
  /** Writes one file and returns the name it got (collisions get ` (2)`, ` (3)`, ...). */
  add(baseName: string, extension: string, bytes: Uint8Array, mtime: Date): Promise<string>;
  finish(): Promise<void>;
  /** Removes whatever is half-made. Complete files of a folder export stay and are reported. */
  abort(): Promise<void>;
}

export class ExportTargetError extends Error {
  override name = 'ExportTargetError';
}

/** Turns file-system errors into messages that name the problem and the fix. */
export function describeFsError(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk holding ${path} is full; free some space or export somewhere else`;
    case 'EROFS':
      return `${path} is on a read-only file system; choose a writable folder`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write to ${path}; choose a folder you can write to`;
    case 'ENOTDIR':
      return `${path} cannot be created because part of its path is a file, not a folder`;
    case 'EEXIST':
      return `${path} already exists; choose another name (exports never overwrite)`;
    case 'ENOENT':
      return `${path} does not exist and could not be created`;
    default:
      return `${path}: ${(error as Error)?.message ?? String(error)}`;
  }
}

/**
 * Creates `folder` (and parents), with an error that names the real cause: recursive mkdir reports
 * ENOENT on a read-only file system and EEXIST when a parent is a file, so we look closer.
 */
export async function ensureFolder(folder: string): Promise<void> {
  let existing = folder;
  const missing: string[] = [];
  for (;;) {
    // ENOTDIR: some parent is a file; keep walking up to name it.
    const stat = await fs.stat(existing).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : e));
    if (stat instanceof Error) throw new ExportTargetError(describeFsError(stat, existing));
    if (stat) {
      if (!stat.isDirectory()) {
        throw new ExportTargetError(
          existing === folder
            ? `${folder} is a file, not a folder; choose a folder`
            : `${folder} cannot be created because ${existing} is a file, not a folder`,
        );
      }
      break;
    }
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const dir of missing) {
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ExportTargetError(describeFsError(error, dir));
    }
  }
}

/** Names already given in this export, compared case-insensitively (for case-insensitive file systems). */
class NameBook {
  private readonly used = new Set<string>();
  claim(base: string, extension: string): string {
    for (let attempt = 1; ; attempt++) {
      const name = candidateName(base, extension, attempt);
      if (!this.used.has(name.toLowerCase())) {
        this.used.add(name.toLowerCase());
        return name;
      }
    }
  }
}

export async function openFolderSink(folder: string): Promise<ExportSink> {
  await ensureFolder(folder);
  const names = new NameBook();
  return {
    path: folder,
    async add(base, extension, bytes, mtime) {
      for (;;) {
        const name = names.claim(base, extension);
        try {
          await writeFileAtomic(join(folder, name), bytes);
          // The creation time, so photo viewers sort exported images the way the gallery does.
          await fs.utimes(join(folder, name), mtime, mtime).catch(() => {});
          return name;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          // Taken by a file that was there before: keep the claim so the next attempt moves on.
        }
      }
    },
    async finish() {
      await syncDirectory(folder);
    },
    async abort() {
      // Each file is complete or absent (temp + link), so there is nothing half-written to remove.
    },
  };
}

/** Counts bytes flowing to the file so `add` can wait when the zip runs ahead of the disk. */
class Meter extends Transform {
  passed = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null, d?: Buffer) => void) {
    this.passed += chunk.length;
    this.emit('progress');
    done(null, chunk);
  }
}

const MAX_BUFFERED = 16 * 1024 * 1024;

export async function openZipSink(zipPath: string): Promise<ExportSink> {
  const dir = dirname(zipPath);
  await ensureFolder(dir);
  const exists = await fs.lstat(zipPath).then(() => true, () => false);
  if (exists) throw new ExportTargetError(`${zipPath} already exists; choose another name (exports never overwrite)`);
  const partPath = join(dir, `.${basename(zipPath)}.part-${randomBytes(4).toString('hex')}`);
  let file;
  try {
    file = createWriteStream(partPath, { flags: 'wx' });
    await new Promise<void>((resolve, reject) => file!.once('open', () => resolve()).once('error', reject));
  } catch (error) {
    throw new ExportTargetError(describeFsError(error, zipPath));
  }
  const zip = new yazl.ZipFile();
  const meter = new Meter();
  let failure: unknown = null;
  const done = pipeline(zip.outputStream, meter, file).catch((error: unknown) => {
    failure = error;
    meter.emit('progress');
    throw error;
  });
  done.catch(() => {}); // observed through `failure` and finish()
  let added = 0;
  const names = new NameBook();

  return {
    path: zipPath,
    async add(base, extension, bytes, mtime) {
      if (failure) throw failure;
      const name = names.claim(base, extension);
      // yazl keeps every entry until the central directory is written; addBuffer's entry would pin
      // the image bytes for the whole export (680 MB for 1,000 images). A lazy stream that lets go
      // of the bytes once handed over keeps memory flat. PNG data is already deflated: store it.
      let pending: Uint8Array | null = bytes;
      zip.addReadStreamLazy(name, { compress: false, mtime, size: bytes.length }, (callback) => {
        const stream = new PassThrough();
        stream.end(pending);
        pending = null;
        callback(null, stream);
      });
      added += bytes.length;
      while (!failure && added - meter.passed > MAX_BUFFERED) {
        await new Promise((resolve) => meter.once('progress', resolve));
      }
      if (failure) throw failure;
      return name;
    },
    async finish() {
      zip.end();
      await done;
      const handle = await fs.open(partPath, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await moveNoReplace(partPath, zipPath); // fails instead of replacing a zip that appeared meanwhile
      } catch (error) {
        await fs.rm(partPath, { force: true });
        throw new ExportTargetError(describeFsError(error, zipPath));
      }
      await syncDirectory(dir);
    },
    async abort() {
      (zip.outputStream as Readable).destroy();
      file.destroy();
      await done.catch(() => {});
      await fs.rm(partPath, { force: true });
    },
  };
}
