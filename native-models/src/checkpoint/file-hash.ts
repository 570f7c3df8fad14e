// sha256 of a checkpoint file (the same hash Civitai and AUTOMATIC1111 show: "AutoV2" is its first 10
// hex digits). Hashing 2-4 GB takes seconds, so it runs in a worker thread (the graph builder works
// meanwhile) and results are remembered per (path, size, mtime) in a small JSON index, reused while
// the file is unchanged.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

interface HashIndex {
  [path: string]: { size: number; mtimeMs: number; sha256: string };
}

// Plain CommonJS so the worker needs no TypeScript loader.
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const hash = createHash('sha256');
const fd = fs.openSync(workerData, 'r');
const buf = Buffer.allocUnsafe(8 << 20);
try {
  let n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
} finally {
  fs.closeSync(fd);
}
parentPort.postMessage(hash.digest('hex'));
`;

/** sha256 of a file, computed in a worker thread. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(HASH_WORKER, { eval: true, workerData: path });
    worker.once('message', (hex: string) => resolvePromise(hex));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`hashing ${path} stopped (exit ${code})`));
    });
  });
}

function readIndex(indexPath: string): HashIndex {
  try {
    return JSON.parse(readFileSync(indexPath, 'utf8')) as HashIndex;
  } catch {
    return {};
  }
}

/** The remembered sha256 of `path`, when its size and mtime have not changed since. */
export function knownSha256(path: string, indexPath: string): string | undefined {
  const abs = resolve(path);
  const st = statSync(abs);
  const known = readIndex(indexPath)[abs];
  return known && known.size === st.size && known.mtimeMs === st.mtimeMs ? known.sha256 : undefined;
}

/** sha256 of `path`, from `indexPath` when the file is unchanged, else computed and remembered. */
export async function cachedSha256(path: string, indexPath: string): Promise<string> {
  const known = knownSha256(path, indexPath);
  if (known) return known;
  const abs = resolve(path);
  const st = statSync(abs);
  const sha256 = await sha256File(abs);
  const fresh = readIndex(indexPath);
  fresh[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  mkdirSync(dirname(indexPath), { recursive: true });
  const tmp = `${indexPath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(fresh, null, 1));
  renameSync(tmp, indexPath);
  return sha256;
}
