// ONNX Runtime's optimised CPU graphs, kept on disk so a model opens without optimising it again.
// Most of a CPU session's creation is graph optimisation: SD 1.5's UNet (3.4 GB) takes 6.7 s at
// level 'all' (NCHWc layouts, fusions, constant folding) against 1.5 s at 'basic'. The first open of
// a model saves the optimised graph and its weights; later opens load that with optimisation off:
// 1.0 s, outputs bit-identical (measured on the 2-core CPU). The price is disk: the weights are
// written once more, in their optimised layout (3.3 GB for that UNet), so the cache keeps a byte
// budget (least recently used entries go first) and never writes into the last free space.
//
// An entry is keyed by everything that shapes the optimised graph: the graph (its bytes, or a file's
// path, size and time), the files beside it that hold its weights (names, sizes, times), onnxruntime's
// version, the optimisation level and this machine's CPU (NCHWc blocks follow its vector width). A
// changed model therefore misses and its old entry ages out. Entries are written into a staging
// folder and renamed into place, so a crash leaves no half entry; staging folders of dead processes
// are removed.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, statfsSync, utimesSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createOrtSession, EXTERNAL_DATA_FOLDER, ort, type OrtSession } from './ort.ts';

type SessionOptions = ort.InferenceSession.SessionOptions;
export type GraphCacheOutcome = 'hit' | 'stored' | `skipped: ${string}`;

const MODEL = 'model.onnx';
const WEIGHTS = 'model.onnx_data';
const STAGING = '.staging-';
/** Free space left on the disk after an entry is written, for the history and everything else. */
const RESERVE_BYTES = 2 * 2 ** 30;

export interface GraphCacheOptions {
  /** Total size of the entries kept (default 12 GiB: about three SD 1.5 models). */
  maxBytes?: number;
  /** Free bytes on the cache's disk (tests stand in a full disk here). */
  freeBytes?: (dir: string) => number;
}

export class OptimizedGraphCache {
  private readonly maxBytes: number;
  private readonly freeBytes: (dir: string) => number;

  constructor(
    readonly dir: string,
    options: GraphCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 12 * 2 ** 30;
    this.freeBytes = options.freeBytes ?? freeDiskBytes;
  }

  /**
   * Opens `source` from its cached optimised graph, or opens it and caches the graph. A source whose
   * weights are only in memory (`options.externalData`) is not cached. A cache that cannot be used
   * (full disk, unreadable entry) never fails the open: the session is created as usual.
   */
  async createSession(source: string | Uint8Array, options: SessionOptions, externalDataDir?: string): Promise<{ session: OrtSession; outcome: GraphCacheOutcome }> {
    if (options.externalData) return { session: await createOrtSession(source, options), outcome: 'skipped: weights in memory' };
    const key = this.keyFor(source, options, externalDataDir);
    const entry = join(this.dir, key);
    // The entry's weights sit beside its graph: drop the source's external-data folder.
    const { extra, ...rest } = options;
    const plain: SessionOptions = { ...rest, ...withoutKey(extra, EXTERNAL_DATA_FOLDER) };
    const openEntry = () => ort.InferenceSession.create(join(entry, MODEL), { ...plain, graphOptimizationLevel: 'disabled' });
    if (existsSync(join(entry, MODEL))) {
      try {
        const session = await openEntry();
        const now = new Date();
        utimesSync(entry, now, now);
        return { session, outcome: 'hit' };
      } catch (e) {
        console.warn(`graph cache: entry ${key} could not be opened (${(e as Error).message.split('\n')[0]}); rebuilding it`);
        removed(entry);
      }
    }
    const need = weightBytes(source, externalDataDir);
    const room = this.makeRoom(need);
    if (room) return { session: await createOrtSession(source, options), outcome: `skipped: ${room}` };
    const staging = join(this.dir, `${STAGING}${process.pid}-${key}`);
    mkdirSync(staging, { recursive: true });
    try {
      const storing = await createOrtSession(source, {
        ...options,
        // onnxruntime warns that a graph optimised with NCHWc layouts suits only this machine:
        // the entry's key holds the CPU model and onnxruntime's version for that, so not on stderr.
        logSeverityLevel: 3,
        optimizedModelFilePath: join(staging, MODEL),
        extra: {
          ...(options.extra as object | undefined),
          'session.optimized_model_external_initializers_file_name': WEIGHTS,
          'session.optimized_model_external_initializers_min_size_in_bytes': '1024',
        },
      });
      // Served from the entry like every later open: storing left the optimised weights in this
      // process's heap besides the session's own (SD 1.5 at 512²: the pipeline's peak 6.25 GB
      // instead of 5.71), and the entry's weights are mapped from its file.
      await storing.release();
      if (!existsSync(entry)) renameSync(staging, entry);
    } catch (e) {
      console.warn(`graph cache: could not store ${key} (${(e as Error).message.split('\n')[0]}); opening without it`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    if (!existsSync(join(entry, MODEL))) return { session: await createOrtSession(source, options), outcome: 'skipped: the entry could not be written' };
    return { session: await openEntry(), outcome: 'stored' };
  }

  /** The entry name for a source under these settings (exported for tests). */
  keyFor(source: string | Uint8Array, options: SessionOptions, externalDataDir?: string): string {
    const hash = createHash('sha256');
    const add = (label: string, value: string | Uint8Array) => hash.update(`${label}\0`).update(value).update('\0');
    if (typeof source === 'string') add('file', fileIdentity(source));
    else add('bytes', source);
    const folder = weightsFolder(source, externalDataDir);
    if (folder) for (const name of readdirSync(folder).sort()) add('beside', `${name} ${fileIdentity(join(folder, name))}`);
    add('settings', JSON.stringify([ort.env.versions.common, options.graphOptimizationLevel ?? 'all', cpus()[0]?.model ?? '', arch()]));
    return hash.digest('hex').slice(0, 32);
  }

  /** Makes room for `need` bytes; returns why not, or undefined when there is room. */
  private makeRoom(need: number): string | undefined {
    mkdirSync(this.dir, { recursive: true });
    this.removeDeadStaging();
    if (need > this.maxBytes) return `the model's ${gib(need)} exceed the cache's budget of ${gib(this.maxBytes)}`;
    const entries = readdirSync(this.dir)
      .filter((name) => !name.startsWith(STAGING))
      .map((name) => ({ path: join(this.dir, name), bytes: folderBytes(join(this.dir, name)), used: statSync(join(this.dir, name)).mtimeMs }))
      .sort((a, b) => a.used - b.used);
    let total = entries.reduce((sum, e) => sum + e.bytes, 0);
    for (const e of entries) {
      if (total + need <= this.maxBytes) break;
      if (removed(e.path)) total -= e.bytes;
    }
    const free = this.freeBytes(this.dir);
    if (free < need + RESERVE_BYTES) return `${gib(free)} free on the disk, the entry needs ${gib(need)} and ${gib(RESERVE_BYTES)} stay free`;
    return undefined;
  }

  private removeDeadStaging(): void {
    for (const name of readdirSync(this.dir).filter((n) => n.startsWith(STAGING))) {
      const pid = Number(name.slice(STAGING.length).split('-')[0]);
      if (!isAlive(pid)) rmSync(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Removes an entry; false where the system refuses (Windows keeps a file that a session in another
 * process has mapped): that entry stays until a later eviction.
 */
function removed(path: string): boolean {
  try {
    rmSync(path, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}

function withoutKey(extra: unknown, key: string): Pick<SessionOptions, 'extra'> {
  if (!extra || typeof extra !== 'object') return {};
  const rest = Object.fromEntries(Object.entries(extra).filter(([k]) => k !== key));
  return Object.keys(rest).length > 0 ? { extra: rest } : {};
}

function fileIdentity(path: string): string {
  const s = statSync(path);
  return `${basename(path)} ${s.size} ${s.mtimeMs}`;
}

/** The folder holding the source's external weights: the one named, or a model file's own. */
function weightsFolder(source: string | Uint8Array, externalDataDir: string | undefined): string | undefined {
  return externalDataDir ?? (typeof source === 'string' ? dirname(source) : undefined);
}

/** The bytes an entry will take: the graph and the weights beside it. */
function weightBytes(source: string | Uint8Array, externalDataDir: string | undefined): number {
  const folder = weightsFolder(source, externalDataDir);
  const graph = typeof source === 'string' ? 0 : source.length;
  return graph + (folder ? folderBytes(folder) : 0);
}

function folderBytes(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((sum, d) => sum + (d.isFile() ? statSync(join(folder, d.name)).size : 0), 0);
}

function freeDiskBytes(dir: string): number {
  const fs = statfsSync(dir);
  return Number(fs.bavail) * Number(fs.bsize);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
