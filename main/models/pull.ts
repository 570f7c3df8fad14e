// One pull = one model: resolve its files on the Hub, check disk space, download a few files at
// once into `<modelsDir>/.downloads/<id>/files/`, verify each, then install the whole folder with
// one rename. Pause keeps the partial files (and `pull.json`, so an app restart can resume);
// cancel deletes them. Nothing ever lands in the models folder before it is complete and verified.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { InstalledModel, ModelKind } from '../contract/api.ts';
import type { CatalogFile, CatalogModel } from './catalog-schema.ts';
import { assertRoomFor, freeBytes } from './disk.ts';
import { downloadFile, sidecarPathOf } from './download-file.ts';
import { fileMetadata, listRepoFiles, selectPipelineFiles, type FileMetadata } from './hub.ts';
import { checkLoraFile } from './lora-check.ts';
import { buildPreviewDecoder } from './preview-decoder.ts';
import { folderSize, toInstalledModel } from './list.ts';
import { MANIFEST_FILE, type Manifest } from './manifest.ts';
import { REQUIRED_FILES } from './onnx-layout.ts';
import { stagingDirFor, stagingRoot } from './paths.ts';
import { acquirePullLock } from './pull-lock.ts';
import { etaSeconds, SpeedMeter } from './progress.ts';
import type { FileProgress, HubOptions, PullHandle, PullProgress, PullRequest, RetryOptions } from './types.ts';
import { PullError } from './types.ts';

export interface PullSpec {
  id: string;
  name: string;
  kind: ModelKind;
  repo: string;
  revision: string;
  /** Empty = the standard pipeline files the repo has. */
  files: CatalogFile[];
  catalogId: string | null;
  recommended: CatalogModel['recommended'];
  expectedBytes: number | null;
  /** What to call pull() with to continue after a restart. */
  request: PullRequest;
}

export interface PullContext {
  modelsDir: string;
  hub: HubOptions;
  retry: RetryOptions;
  concurrentFiles: number;
  stallTimeoutMs: number;
  onProgress: (p: PullProgress) => void;
  /** Free bytes where the staging folder lives; replaceable only because a full disk cannot be made in a test. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Minimum time between two progress events while bytes flow. */
  progressIntervalMs?: number;
}

/** What `pull.json` in a staging folder holds: enough to list and resume after a restart. */
interface PullRecord {
  id: string;
  name: string;
  request: PullRequest;
  files: Array<{ path: string; sizeBytes: number | null }>;
  startedAt: string;
}

const PULL_RECORD = 'pull.json';
const PULL_LOCK = 'pull.lock';
const FILES_DIR = 'files';
const partPathOf = (filesDir: string, path: string) => join(filesDir, `${path}.part`);

interface ResolvedFile {
  path: string;
  meta: FileMetadata;
  expectedSha256: string | null;
}

class Pull implements PullHandle {
  readonly done: Promise<InstalledModel>;
  private resolveDone!: (m: InstalledModel) => void;
  private rejectDone!: (e: Error) => void;
  private controller: AbortController | null = null;
  private state: PullProgress['state'] = 'queued';
  private error: string | null = null;
  private files: FileProgress[] = [];
  private resumed = 0;
  private fetched = 0;
  private meter = new SpeedMeter();
  private lastEmit = 0;
  private readonly stagingDir: string;
  private readonly filesDir: string;

  constructor(
    private readonly spec: PullSpec,
    private readonly ctx: PullContext,
  ) {
    this.stagingDir = stagingDirFor(ctx.modelsDir, spec.id);
    this.filesDir = join(this.stagingDir, FILES_DIR);
    this.done = new Promise((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // A rejected `done` nobody awaits must not crash the process.
    this.done.catch(() => {});
    this.start();
  }

  get id(): string {
    return this.spec.id;
  }

  pause(): void {
    if (this.state !== 'downloading' && this.state !== 'queued') return;
    this.state = 'paused';
    this.controller?.abort(new PullError('cancelled', 'paused'));
    this.emit(true);
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.start();
  }

  cancel(): void {
    if (this.state === 'done' || this.state === 'cancelled' || this.state === 'failed') return;
    const wasRunning = this.controller !== null && !this.controller.signal.aborted;
    this.state = 'cancelled';
    this.controller?.abort(new PullError('cancelled', 'cancelled'));
    // A running transfer removes the staging folder when it has stopped writing; a paused one
    // once its last writes are done.
    if (!wasRunning) this.lastRun = this.lastRun.then(() => this.finishCancel());
  }

  progress(): PullProgress {
    const received = this.files.reduce((s, f) => s + f.receivedBytes, 0);
    const knownTotals = this.files.every((f) => f.totalBytes !== null) && this.files.length > 0;
    const total = knownTotals ? this.files.reduce((s, f) => s + (f.totalBytes ?? 0), 0) : this.spec.expectedBytes;
    const speed = this.state === 'downloading' ? this.meter.bytesPerSecond() : 0;
    return {
      id: this.spec.id,
      catalogId: this.spec.catalogId ?? this.spec.id,
      state: this.state,
      receivedBytes: received,
      totalBytes: total,
      bytesPerSecond: speed,
      error: this.error,
      etaSeconds: etaSeconds(total === null ? null : Math.max(0, total - received), speed),
      resumedBytes: this.resumed,
      files: this.files.map((f) => ({ ...f })),
    };
  }

  idle(): Promise<void> {
    return this.lastRun;
  }

  private lastRun: Promise<void> = Promise.resolve();

  private start(): void {
    const controller = new AbortController();
    this.controller = controller;
    this.state = 'downloading';
    this.error = null;
    this.resumed = 0;
    this.fetched = 0;
    this.meter.reset();
    this.emit(true);
    const signal = controller.signal;
    // A resume waits for the paused run to finish writing, so two runs never append to one part.
    const run = this.lastRun.then(() => {
      if (signal.aborted) throw signal.reason;
      return this.run(signal);
    });
    this.lastRun = run.then(
      (model) => {
        this.state = 'done';
        this.emit(true);
        this.resolveDone(model);
      },
      async (error: unknown) => {
        if (signal.aborted && this.state === 'paused') return this.emit(true); // resume() starts a new run
        if (this.state === 'cancelled') return this.finishCancel();
        this.state = 'failed';
        this.error = error instanceof Error ? error.message : String(error);
        // Keep partial bytes worth resuming; a pull that failed before any byte leaves nothing.
        const othersFolder = error instanceof PullError && error.code === 'busy';
        if (!othersFolder && (await folderSize(this.filesDir).catch(() => 0)) === 0) {
          await rm(this.stagingDir, { recursive: true, force: true });
        }
        this.emit(true);
        this.rejectDone(error instanceof PullError ? error : new PullError('network', this.error));
      },
    );
  }

  private async finishCancel(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
    this.emit(true);
    this.rejectDone(new PullError('cancelled', `download of ${this.spec.name} was cancelled; its partial files were deleted`));
  }

  private emit(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastEmit < (this.ctx.progressIntervalMs ?? 250)) return;
    this.lastEmit = now;
    this.ctx.onProgress(this.progress());
  }

  private async run(signal: AbortSignal): Promise<InstalledModel> {
    const target = join(this.ctx.modelsDir, this.spec.id);
    if (await exists(join(target, MANIFEST_FILE))) {
      throw new PullError('invalid', `${this.spec.id} is already installed in ${this.ctx.modelsDir}; remove it first to download it again`);
    }
    if (await exists(target)) throw userFolderInTheWay(target);
    await mkdir(this.filesDir, { recursive: true });
    const release = await acquirePullLock(join(this.stagingDir, PULL_LOCK), this.spec.id);
    try {
      return await this.runLocked(signal);
    } finally {
      await release();
    }
  }

  private async runLocked(signal: AbortSignal): Promise<InstalledModel> {
    const resolved = await this.resolveFiles(signal);
    this.files = resolved.map((f) => ({ path: f.path, receivedBytes: 0, totalBytes: f.meta.sizeBytes, state: 'queued' }));
    await writeFile(
      join(this.stagingDir, PULL_RECORD),
      JSON.stringify({
        id: this.spec.id,
        name: this.spec.name,
        request: this.spec.request,
        files: resolved.map((f) => ({ path: f.path, sizeBytes: f.meta.sizeBytes })),
        startedAt: new Date().toISOString(),
      } satisfies PullRecord),
    );
    await this.checkDisk(resolved);

    const results = new Map<string, { sha256: string; sizeBytes: number }>();
    // The first file that fails stops the others at once (their parts stay for a resume).
    const stopAll = new AbortController();
    const inner = AbortSignal.any([signal, stopAll.signal]);
    const queue = [...resolved];
    const worker = async () => {
      try {
        for (let next = queue.shift(); next; next = queue.shift()) {
          if (inner.aborted) throw inner.reason;
          results.set(next.path, await this.downloadOne(next, inner));
        }
      } catch (error) {
        if (!stopAll.signal.aborted) stopAll.abort(error);
        throw error;
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(this.ctx.concurrentFiles, resolved.length)) }, worker);
    await Promise.allSettled(workers);
    if (signal.aborted) throw signal.reason;
    if (stopAll.signal.aborted) throw stopAll.signal.reason;
    this.state = 'verifying';
    this.emit(true);
    return this.install(resolved, results);
  }

  private async resolveFiles(signal: AbortSignal): Promise<ResolvedFile[]> {
    const { hub } = this.ctx;
    const { repo, revision } = this.spec;
    let wanted: Array<{ path: string; sha256: string | null }> = this.spec.files.map((f) => ({ path: f.path, sha256: f.sha256 }));
    if (wanted.length === 0) {
      const listed = selectPipelineFiles(await listRepoFiles(hub, repo, revision, signal));
      const missing = REQUIRED_FILES.filter((r) => !listed.some((f) => f.path === r));
      if (missing.length > 0) {
        throw new PullError(
          'invalid',
          `${repo}@${revision} is not an ONNX pipeline in the optimum layout (no ${missing.join(', ')}). Export one with: optimum-cli export onnx --model ${repo} --task text-to-image <dir>, then import <dir>`,
        );
      }
      wanted = listed.map((f) => ({ path: f.path, sha256: f.sha256 }));
    }
    // HEAD every file first: a gated repo or a missing file fails before any byte is written.
    const out: ResolvedFile[] = [];
    for (const f of wanted) {
      const meta = await fileMetadata(hub, repo, revision, f.path, signal, this.ctx.stallTimeoutMs);
      out.push({ path: f.path, meta, expectedSha256: f.sha256 });
    }
    return out;
  }

  private async checkDisk(files: ResolvedFile[]): Promise<void> {
    let needed = 0;
    for (const f of files) {
      if (f.meta.sizeBytes === null) continue;
      needed += Math.max(0, f.meta.sizeBytes - (await sizeOrZero(partPathOf(this.filesDir, f.path))));
    }
    const root = stagingRoot(this.ctx.modelsDir);
    const free = await (this.ctx.freeBytes ?? freeBytes)(root);
    await assertRoomFor(this.ctx.modelsDir, needed, free);
  }

  private async downloadOne(file: ResolvedFile, signal: AbortSignal) {
    const entry = this.files.find((f) => f.path === file.path)!;
    const finalPath = join(this.filesDir, file.path);
    const partPath = partPathOf(this.filesDir, file.path);
    // Verified in an earlier run (e.g. before a pause): keep it.
    const record = await readVerified(finalPath);
    if (record) {
      entry.receivedBytes = record.sizeBytes;
      entry.state = 'done';
      this.resumed += record.sizeBytes;
      return record;
    }
    await mkdir(dirname(partPath), { recursive: true });
    entry.state = 'downloading';
    let firstCall = true;
    const result = await downloadFile({
      hub: this.ctx.hub,
      repo: this.spec.repo,
      revision: this.spec.revision,
      path: file.path,
      meta: file.meta,
      expectedSha256: file.expectedSha256,
      partPath,
      signal,
      retry: this.ctx.retry,
      stallTimeoutMs: this.ctx.stallTimeoutMs,
      onBytes: (delta) => {
        entry.receivedBytes += delta;
        if (firstCall) {
          // The first call reports bytes already on disk: a resume, not network speed.
          firstCall = false;
          this.resumed += delta;
        } else if (delta > 0) {
          this.fetched += delta;
          this.meter.add(this.fetched);
        }
        this.emit();
      },
    });
    entry.state = 'verifying';
    // Verified: from here on the file is complete; the rename is atomic within staging.
    await rename(partPath, finalPath);
    await writeFile(verifiedPathOf(finalPath), JSON.stringify({ sha256: result.sha256, sizeBytes: result.sizeBytes }));
    await rm(sidecarPathOf(partPath), { force: true });
    entry.state = 'done';
    this.emit(true);
    return result;
  }

  private async install(files: ResolvedFile[], results: Map<string, { sha256: string; sizeBytes: number }>): Promise<InstalledModel> {
    let mainFile: string | null = null;
    if (this.spec.kind === 'lora') {
      mainFile = files[0]!.path;
      try {
        await checkLoraFile(join(this.filesDir, mainFile));
      } catch (error) {
        // A verified download that is not an SD 1.5 LoRA will not become one on a retry.
        await rm(this.stagingDir, { recursive: true, force: true });
        throw new PullError('invalid', (error as Error).message);
      }
    }
    const built: Array<{ path: string; sizeBytes: number; sha256: null }> = [];
    if (this.spec.kind === 'preview-decoder') {
      try {
        // A few MB of graph, built once here rather than in every inference process start.
        mainFile = buildPreviewDecoder(this.filesDir, join(this.filesDir, files[0]!.path));
      } catch (error) {
        await rm(this.stagingDir, { recursive: true, force: true });
        throw new PullError('invalid', (error as Error).message);
      }
      for (const name of await readdir(join(this.filesDir, dirname(mainFile)))) {
        const path = `${dirname(mainFile)}/${name}`;
        built.push({ path, sizeBytes: (await stat(join(this.filesDir, path))).size, sha256: null });
      }
    }
    for (const f of files) await rm(verifiedPathOf(join(this.filesDir, f.path)), { force: true });
    const commit = files.find((f) => f.meta.commit)?.meta.commit ?? null;
    const manifest: Manifest = {
      version: 1,
      id: this.spec.id,
      name: this.spec.name,
      kind: this.spec.kind,
      source: this.spec.catalogId ? 'catalog' : 'hub',
      catalogId: this.spec.catalogId,
      repo: this.spec.repo,
      revision: this.spec.revision,
      commit,
      files: [...files.map((f) => ({ path: f.path, sizeBytes: results.get(f.path)!.sizeBytes, sha256: results.get(f.path)!.sha256 })), ...built],
      mainFile,
      recommended: this.spec.recommended,
      installedAt: new Date().toISOString(),
    };
    await writeFile(join(this.filesDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    const target = join(this.ctx.modelsDir, this.spec.id);
    if (await exists(target)) throw userFolderInTheWay(target); // appeared while downloading
    await rename(this.filesDir, target);
    await rm(this.stagingDir, { recursive: true, force: true });
    return toInstalledModel(manifest, await folderSize(target));
  }
}

const verifiedPathOf = (finalPath: string) => `${finalPath}.verified.json`;

async function readVerified(finalPath: string): Promise<{ sha256: string; sizeBytes: number } | null> {
  try {
    const rec = JSON.parse(await readFile(verifiedPathOf(finalPath), 'utf8')) as { sha256: string; sizeBytes: number };
    return (await stat(finalPath)).size === rec.sizeBytes ? rec : null;
  } catch {
    return null;
  }
}

/** A folder without our manifest is the user's own model (any standard-layout folder counts): never delete it. */
function userFolderInTheWay(target: string): PullError {
  return new PullError('invalid', `${target} already exists and was not made by a download; move or rename it, then pull again`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sizeOrZero(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export function startPull(spec: PullSpec, ctx: PullContext): PullHandle {
  return new Pull(spec, ctx);
}

/** Pulls an earlier run left in the staging folder (paused, crashed or killed). */
export async function listPendingPulls(modelsDir: string): Promise<Array<{ request: PullRequest; progress: PullProgress }>> {
  let names: string[];
  try {
    names = await readdir(stagingRoot(modelsDir));
  } catch {
    return [];
  }
  const out: Array<{ request: PullRequest; progress: PullProgress }> = [];
  for (const name of names) {
    const dir = stagingDirFor(modelsDir, name);
    let record: PullRecord;
    try {
      record = JSON.parse(await readFile(join(dir, PULL_RECORD), 'utf8')) as PullRecord;
    } catch {
      continue;
    }
    const filesDir = join(dir, FILES_DIR);
    const files: FileProgress[] = [];
    for (const f of record.files) {
      const done = await readVerified(join(filesDir, f.path));
      const received = done ? done.sizeBytes : await sizeOrZero(partPathOf(filesDir, f.path));
      files.push({ path: f.path, receivedBytes: received, totalBytes: f.sizeBytes, state: done ? 'done' : 'queued' });
    }
    const total = files.every((f) => f.totalBytes !== null) ? files.reduce((s, f) => s + (f.totalBytes ?? 0), 0) : null;
    const received = files.reduce((s, f) => s + f.receivedBytes, 0);
    const catalogId = 'catalogId' in record.request ? record.request.catalogId : record.id;
    out.push({
      request: record.request,
      progress: {
        id: record.id,
        catalogId,
        state: 'paused',
        receivedBytes: received,
        totalBytes: total,
        bytesPerSecond: 0,
        error: null,
        etaSeconds: null,
        resumedBytes: 0,
        files,
      },
    });
  }
  return out;
}
