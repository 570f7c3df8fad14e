// Installed models, the catalog, and downloads in flight (download.updated events).
import type { ApiClient, CatalogEntry, DownloadState, InstalledModel, ModelKind } from '../../../main/contract/api.ts';

export class ModelsStore {
  installed = $state<InstalledModel[]>([]);
  catalog = $state<CatalogEntry[]>([]);
  downloads = $state<Record<string, DownloadState>>({});
  loaded = $state(false);
  /** Why the list could not be read (a missing models folder, a server down); null when fine. */
  loadError = $state<string | null>(null);

  bases = $derived(this.installed.filter((m) => m.kind === 'base'));
  loras = $derived(this.installed.filter((m) => m.kind === 'lora'));
  /** TAESD installed: the quick preview can run. */
  hasPreviewDecoder = $derived(this.installed.some((m) => m.kind === 'preview-decoder'));

  readonly #api: ApiClient;
  readonly #stop: () => void;
  readonly #onLoaded: () => void;

  /** `onLoaded` runs after every successful load (the form picks a model once one exists). */
  constructor(api: ApiClient, onLoaded: () => void = () => {}) {
    this.#api = api;
    this.#onLoaded = onLoaded;
    this.#stop = api.on('download.updated', (d) => {
      this.downloads[d.catalogId] = d;
      if (d.state === 'done') void this.load();
    });
  }

  async load(): Promise<void> {
    try {
      const [installed, catalog] = await Promise.all([
        this.#api.call('models.list', {}),
        this.#api.call('models.catalog', {}).catch(() => [] as CatalogEntry[]),
      ]);
      this.installed = installed;
      this.catalog = catalog;
      this.loadError = null;
      this.loaded = true;
      this.#onLoaded();
    } catch (error) {
      this.installed = [];
      this.loadError = error instanceof Error ? error.message : String(error);
    } finally {
      this.loaded = true;
    }
  }

  byId(id: string | null | undefined): InstalledModel | undefined {
    return id ? this.installed.find((m) => m.id === id) : undefined;
  }

  async pull(catalogId: string): Promise<void> {
    await this.#api.call('models.pull', { catalogId });
  }

  async pause(downloadId: string): Promise<void> {
    await this.#api.call('models.pause', { downloadId });
  }

  async resume(downloadId: string): Promise<void> {
    await this.#api.call('models.resume', { downloadId });
  }

  async cancelPull(downloadId: string): Promise<void> {
    await this.#api.call('models.cancelPull', { downloadId });
  }

  async import(path: string): Promise<InstalledModel> {
    const model = await this.#api.call('models.import', { path });
    await this.load();
    return model;
  }

  /** The caller has asked the user; the contract wants that said out loud (confirm: true). */
  async remove(id: string): Promise<void> {
    await this.#api.call('models.remove', { id, confirm: true });
    await this.load();
  }

  dispose(): void {
    this.#stop();
  }
}

const KIND_LABELS: Record<ModelKind, string> = { base: 'Base model', lora: 'LoRA', 'preview-decoder': 'Preview decoder' };

export function kindLabel(kind: ModelKind): string {
  return KIND_LABELS[kind];
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'size unknown';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
