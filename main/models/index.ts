// The model library's one entry point: the server (HTTP API + UI), the Electron app and the CLI
// all use this class, so a model pulled or imported by one is seen by the others.
//
//   const library = new ModelLibrary({ modelsDir });
//   await library.catalog();                       // catalog entries with `installed`
//   const pull = library.pull({ catalogId: 'dreamshaper-8' });
//   library.onProgress((p) => ...);                // every pull's PullProgress (≈ 4 per second)
//   await pull.done;                               // InstalledModel, or throws PullError
//   await library.importPath('/some/onnx-folder'); // validated, copied in, InstalledModel
//   library.onBeforeRemove(async (m) => releaseSessions(m.id));
//   await library.remove('dreamshaper-8', { confirm: true });
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogEntry, InstalledModel } from '../contract/api.ts';
import type { Catalog, CatalogModel } from './catalog-schema.ts';
import { findCatalogModel, loadCatalog } from './catalog.ts';
import { ensureClipTokenizer } from './clip-tokenizer.ts';
import { resolveHubOptions } from './hub.ts';
import { importModel } from './import.ts';
import { listInstalled } from './list.ts';
import { readManifest } from './manifest.ts';
import { assertModelId, stagingDirFor, toModelId } from './paths.ts';
import { acquirePullLock } from './pull-lock.ts';
import { listPendingPulls, startPull, type PullSpec } from './pull.ts';
import {
  type BeforeRemoveHook,
  type HubOptions,
  type ImportOptions,
  type ModelLibraryOptions,
  type PullHandle,
  type PullProgress,
  type PullRequest,
  type RemoveOptions,
  type RetryOptions,
  PullError,
} from './types.ts';

export * from './types.ts';
export type { Catalog, CatalogModel } from './catalog-schema.ts';

export class ModelLibrary {
  readonly modelsDir: string;
  readonly hub: HubOptions;
  private readonly retry: RetryOptions;
  private readonly concurrentFiles: number;
  private readonly stallTimeoutMs: number;
  private readonly freeBytes: ModelLibraryOptions['freeBytes'];
  private readonly inspectOnnx: ModelLibraryOptions['inspectOnnx'];
  private readonly catalogData: Catalog;
  private readonly pulls = new Map<string, PullHandle>();
  private readonly progressListeners = new Set<(p: PullProgress) => void>();
  private readonly beforeRemoveHooks = new Set<BeforeRemoveHook>();
  private readonly changeListeners = new Set<() => void>();

  constructor(options: ModelLibraryOptions) {
    this.modelsDir = options.modelsDir;
    this.catalogData = loadCatalog(options.catalogPath);
    this.hub = resolveHubOptions(options.hub);
    this.retry = { attempts: 5, baseDelayMs: 1000, ...options.retry };
    this.concurrentFiles = options.concurrentFiles ?? 3;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 60_000;
    this.freeBytes = options.freeBytes;
    this.inspectOnnx = options.inspectOnnx;
  }

  /** Installed models (folders with a valid manifest) with their size on disk. */
  list(): Promise<InstalledModel[]> {
    return listInstalled(this.modelsDir);
  }

  /** The raw catalog (repos, files, recommended settings, notes). */
  catalogModels(): readonly CatalogModel[] {
    return this.catalogData.models;
  }

  /** Catalog entries as the UI shows them, with install state. */
  async catalog(): Promise<CatalogEntry[]> {
    const installed = new Set((await this.list()).map((m) => m.id));
    return this.catalogData.models.map((m) => ({
      id: m.id,
      name: m.name,
      kind: m.kind,
      description: m.description,
      sizeBytes: m.sizeBytes ?? sumKnownSizes(m),
      license: m.license,
      installed: installed.has(m.id),
      manualInstructions: m.manualInstructions,
    }));
  }

  /**
   * Starts (or joins) a download. Progress goes to onProgress listeners; partial files stay in
   * `<modelsDir>/.downloads/<id>/` until every file is verified, then the model appears at once.
   */
  pull(request: PullRequest): PullHandle {
    const spec = this.specFor(request);
    const running = this.pulls.get(spec.id);
    if (running) {
      running.resume(); // no-op unless paused: asking again for a paused download continues it
      return running;
    }
    const handle = startPull(spec, {
      modelsDir: this.modelsDir,
      hub: this.hub,
      retry: this.retry,
      concurrentFiles: this.concurrentFiles,
      stallTimeoutMs: this.stallTimeoutMs,
      freeBytes: this.freeBytes,
      onProgress: (p) => this.progressListeners.forEach((l) => l(p)),
    });
    this.pulls.set(spec.id, handle);
    const forget = () => {
      if (this.pulls.get(spec.id) === handle) this.pulls.delete(spec.id);
    };
    handle.done.then(
      () => {
        forget();
        this.changed();
      },
      forget,
    );
    return handle;
  }

  /** The pull with this id if it is running or paused in this process. */
  getPull(id: string): PullHandle | undefined {
    return this.pulls.get(id);
  }

  /** Pulls in this process plus those left paused by an earlier run (resume them with resumePending). */
  async downloads(): Promise<PullProgress[]> {
    const live = [...this.pulls.values()].map((p) => p.progress());
    const liveIds = new Set(live.map((p) => p.id));
    const pending = (await listPendingPulls(this.modelsDir)).filter((p) => !liveIds.has(p.progress.id));
    return [...live, ...pending.map((p) => p.progress)];
  }

  /** Continues a pull that an earlier run (or a crash) left in the staging folder. */
  async resumePending(id: string): Promise<PullHandle> {
    const live = this.pulls.get(id);
    if (live) {
      live.resume();
      return live;
    }
    const pending = (await listPendingPulls(this.modelsDir)).find((p) => p.progress.id === id);
    if (!pending) throw new PullError('not_found', `no paused download with id ${id}`);
    return this.pull(pending.request);
  }

  /** Cancels a running, paused or left-over (earlier run) download and deletes its partial files. */
  async cancelDownload(id: string): Promise<void> {
    assertModelId(id);
    const live = this.pulls.get(id);
    if (live) {
      live.cancel();
      await live.idle();
      return;
    }
    if (!(await listPendingPulls(this.modelsDir)).some((p) => p.progress.id === id)) {
      throw new PullError('not_found', `no download with id ${id}`);
    }
    // Refuses while another process (the app, serve, a CLI) is still downloading it.
    await acquirePullLock(join(stagingDirFor(this.modelsDir, id), 'pull.lock'), id);
    await rm(stagingDirFor(this.modelsDir, id), { recursive: true, force: true });
  }

  /** Validates an ONNX pipeline folder or a LoRA .safetensors file and copies it in. */
  async importPath(path: string, options: ImportOptions = {}): Promise<InstalledModel> {
    const model = await importModel(this.modelsDir, path, options, this.inspectOnnx, () => this.pullTokenizer());
    this.changed();
    return model;
  }

  /**
   * The CLIP tokenizer that single-file checkpoints need, in `<modelsDir>/tokenizers/clip-vit-large-patch14`:
   * downloaded from the Hub (pinned revision) unless already there. Throws a PullError that says how to fix it.
   */
  pullTokenizer(signal?: AbortSignal): Promise<{ dir: string; downloaded: boolean }> {
    return ensureClipTokenizer(this.modelsDir, { hub: this.hub, retry: this.retry, stallTimeoutMs: this.stallTimeoutMs, signal });
  }

  /** Inference side: release sessions of a model before its files go. Returns an unsubscribe. */
  onBeforeRemove(hook: BeforeRemoveHook): () => void {
    this.beforeRemoveHooks.add(hook);
    return () => this.beforeRemoveHooks.delete(hook);
  }

  onProgress(listener: (p: PullProgress) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** Called after a model was installed, imported or removed. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Deletes an installed model. The caller has asked the user: `{ confirm: true }` is required. */
  async remove(id: string, options: RemoveOptions): Promise<InstalledModel> {
    if (options?.confirm !== true) {
      throw new Error(`not removing ${id}: removal needs an explicit confirmation`);
    }
    assertModelId(id);
    const model = (await this.list()).find((m) => m.id === id);
    if (!model) throw new Error(`no installed model with id ${id} in ${this.modelsDir}`);
    for (const hook of this.beforeRemoveHooks) await hook(model);
    await rm(join(this.modelsDir, id), { recursive: true, force: true });
    this.changed();
    return model;
  }

  /** The manifest of an installed model (files, repo, commit). */
  manifest(id: string) {
    assertModelId(id);
    return readManifest(join(this.modelsDir, id));
  }

  private changed(): void {
    this.changeListeners.forEach((l) => l());
  }

  private specFor(request: PullRequest): PullSpec {
    if ('catalogId' in request) {
      const entry = findCatalogModel(this.catalogData, request.catalogId);
      if (!entry) throw new PullError('not_found', `${request.catalogId} is not in the catalog`);
      if (!entry.repo) {
        const how = (entry.manualInstructions ?? '').replace(/\s*\n\s*/g, ' ');
        throw new PullError('invalid', `${entry.name} cannot be downloaded ready-made. ${how}`.trim());
      }
      return {
        id: entry.id,
        name: entry.name,
        kind: entry.kind,
        repo: entry.repo,
        revision: entry.revision,
        files: entry.files,
        catalogId: entry.id,
        recommended: entry.recommended,
        expectedBytes: entry.sizeBytes,
        request,
      };
    }
    const byRepo = this.catalogData.models.find((m) => m.repo === request.repo);
    if (byRepo && !request.files?.length && !request.revision) {
      return this.specFor({ catalogId: byRepo.id });
    }
    const repoName = request.repo.split('/').pop() ?? request.repo;
    const files = (request.files ?? []).map((path) => ({ path, sizeBytes: null, sha256: null }));
    const kind = request.kind ?? (files.length === 1 && files[0]!.path.endsWith('.safetensors') ? 'lora' : 'base');
    const id = request.id ?? (kind === 'lora' ? files[0]!.path.split('/').pop()! : repoName);
    const modelId = id === request.id ? id : toModelId(id);
    assertModelId(modelId);
    return {
      id: modelId,
      name: request.id ?? repoName,
      kind,
      repo: request.repo,
      revision: request.revision ?? 'main',
      files,
      catalogId: null,
      recommended: null,
      expectedBytes: null,
      request,
    };
  }
}

function sumKnownSizes(m: CatalogModel): number | null {
  if (m.files.length === 0 || m.files.some((f) => f.sizeBytes === null)) return null;
  return m.files.reduce((s, f) => s + (f.sizeBytes ?? 0), 0);
}
