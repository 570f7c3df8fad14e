// sha256 of a checkpoint file (the same hash Civitai and AUTOMATIC1111 show: "AutoV2" is its first 10
// hex digits). Hashing 2-4 GB takes seconds, so results are remembered per (path, size, mtime) in a
// small JSON index and reused while the file is unchanged.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

interface HashIndex {
  [path: string]: { size: number; mtimeMs: number; sha256: string };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function readIndex(indexPath: string): HashIndex {
  try {
    return JSON.parse(readFileSync(indexPath, 'utf8')) as HashIndex;
  } catch {
    return {};
  }
}

/** sha256 of `path`, from `indexPath` when the file's size and mtime have not changed. */
export async function cachedSha256(path: string, indexPath: string): Promise<string> {
  const abs = resolve(path);
  const st = statSync(abs);
  const index = readIndex(indexPath);
  const known = index[abs];
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  const sha256 = await sha256File(abs);
  const fresh = readIndex(indexPath);
  fresh[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  mkdirSync(dirname(indexPath), { recursive: true });
  const tmp = `${indexPath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(fresh, null, 1));
  renameSync(tmp, indexPath);
  return sha256;
}
