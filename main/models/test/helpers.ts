// Shared by the model library tests: temp folders and a walk that finds partial files.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(prefix = 'yoso-models-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Every file under dir (relative paths), skipping the staging folder unless asked. */
export async function walk(dir: string, includeStaging = false, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (!includeStaging && !prefix && e.name === '.downloads') continue;
    if (e.isDirectory()) out.push(...(await walk(dir, includeStaging, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Deterministic pseudo-random bytes (a file the test can check byte for byte). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
