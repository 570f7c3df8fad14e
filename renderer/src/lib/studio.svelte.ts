// The whole studio's state, composed of the stores; components get it (or one store) as a prop.
import type { ApiClient, CommandOutput, ExportReport, HistoryItem, Settings } from '../../../main/contract/api.ts';
import { errorMessage } from '../api/errors.ts';
import { GalleryStore, type GalleryOptions } from './gallery.svelte.ts';
import { GenerateForm } from './generate-form.svelte.ts';
import { persistForm, restoreForm } from './form-persistence.svelte.ts';
import { warmModels, type WarmupTimers } from './model-warmup.svelte.ts';
import { JobsStore } from './jobs.svelte.ts';
import { PreviewStore } from './preview.svelte.ts';
import { LiveStore } from './live-preview.svelte.ts';
import { ModelsStore } from './models.svelte.ts';
import { classifyDrop, fileToBase64 } from './png-drop.ts';
import { Toasts } from './toasts.svelte.ts';

export type View = 'create' | 'gallery' | 'queue' | 'models' | 'settings';
export type AppInfo = CommandOutput<'app.info'>;

export interface StudioOptions {
  random?: () => number;
  /** Where the Generate form is kept between sessions (localStorage in the app). */
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
  gallery?: GalleryOptions;
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** Timers of the model warm-up (generate.prepare after the form's models change); tests pass fakes. */
  warmupTimers?: WarmupTimers;
}

export class Studio {
  view = $state<View>('create');
  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);
  /** Could not even reach the main side: the page shows this instead of a blank screen. */
  fatal = $state<string | null>(null);
  started = $state(false);
  /** The image shown large on the Create view. */
  current = $state<HistoryItem | null>(null);
  exports = $state<Record<string, ExportReport>>({});

  readonly api: ApiClient;
  readonly form: GenerateForm;
  readonly jobs: JobsStore;
  readonly gallery: GalleryStore;
  readonly models: ModelsStore;
  readonly toasts: Toasts;
  /** The quick preview shown until its full image arrives (Settings.preview). */
  readonly preview: PreviewStore;
  /** Live mode's picture of the form's current settings (not saved). */
  readonly live: LiveStore;
  /** The LoRA default is chosen once; after that "None" stays the user's choice. */
  #loraChosen = false;

  /** No base model installed: the Create view becomes the first-run guide. */
  get needsModels(): boolean {
    return this.models.loaded && this.models.bases.length === 0;
  }

  constructor(api: ApiClient, options: StudioOptions = {}) {
    this.api = api;
    this.form = new GenerateForm(options.random);
    this.jobs = new JobsStore(api);
    this.gallery = new GalleryStore(api, options.gallery);
    this.models = new ModelsStore(api, () => this.#pickDefaultModels());
    this.toasts = new Toasts(options.setTimer);
    this.preview = new PreviewStore(api);
    this.live = new LiveStore(this.form, api, undefined, options.warmupTimers);
    if (options.storage) {
      this.#loraChosen = restoreForm(this.form, options.storage);
      persistForm(this.form, options.storage);
    }
    warmModels(this.form, api, undefined, options.warmupTimers);
    // The newest image becomes the big one: what the user just asked for appears by itself.
    api.on('history.added', (item) => {
      this.current = item;
      this.preview.imageSaved(item);
      this.live.clear();
    });
    api.on('inference.status', (status) => {
      if (this.info) this.info.inference = status;
    });
    api.on('export.updated', (report) => {
      this.exports[report.id] = report;
      if (report.state === 'done') this.toasts.show(`Exported ${report.exported} images to ${report.to}`);
      if (report.state === 'failed') this.toasts.error(`Export failed: ${report.error ?? 'unknown error'}`);
    });
    api.on('job.updated', (job) => {
      if (job.state === 'failed') this.toasts.error(`Generation failed: ${job.error ?? 'unknown error'}`);
    });
  }

  async start(): Promise<void> {
    try {
      this.info = await this.api.call('app.info', {});
      this.settings = await this.api.call('settings.get', {});
    } catch (error) {
      this.fatal = errorMessage(error);
      this.started = true;
      return;
    }
    await Promise.all([this.models.load(), this.gallery.refresh().catch((e) => this.toasts.error(errorMessage(e))), this.jobs.load().catch(() => {})]);
    this.current ??= this.gallery.items[0] ?? null;
    this.started = true;
  }

  async generate(): Promise<boolean> {
    const result = this.form.toRequest();
    if (!result.ok) {
      this.toasts.error(Object.values(result.errors)[0] ?? 'The form is not complete');
      return false;
    }
    try {
      await this.jobs.enqueue(result.request, result.count);
      this.form.afterEnqueue();
      this.live.afterGenerate(this.form);
      return true;
    } catch (error) {
      this.toasts.error(errorMessage(error));
      return false;
    }
  }

  async cancelRunning(): Promise<void> {
    const running = this.jobs.running;
    if (running) await this.jobs.cancel(running.id).catch((e) => this.toasts.error(errorMessage(e)));
  }

  /** Loads an image's parameters into the form (seed locked) and goes to Create. */
  async reuse(id: string): Promise<void> {
    try {
      const request = await this.api.call('history.reuse', { id });
      this.form.apply(request);
      this.#keepKnownModels();
      this.view = 'create';
      this.toasts.show('Parameters loaded; the seed is locked');
    } catch (error) {
      this.toasts.error(errorMessage(error));
    }
  }

  async drop(data: DataTransfer | null): Promise<void> {
    const source = classifyDrop(data);
    if (source.kind === 'none') {
      this.toasts.error(source.reason);
      return;
    }
    if (source.kind === 'history') return this.reuse(source.id);
    try {
      const { request, source: from } = await this.api.call('history.readPngParameters', {
        pngBase64: await fileToBase64(source.file),
      });
      this.form.apply(request);
      this.#keepKnownModels();
      this.view = 'create';
      this.toasts.show(`Loaded the parameters of ${source.file.name} (${from === 'a1111' ? 'AUTOMATIC1111' : from === 'comfyui' ? 'ComfyUI' : 'YOSO Studio'})`);
    } catch (error) {
      this.toasts.error(errorMessage(error));
    }
  }

  async deleteWithUndo(ids: string[]): Promise<void> {
    try {
      await this.gallery.delete(ids);
    } catch (error) {
      this.toasts.error(errorMessage(error));
      return;
    }
    if (this.current && ids.includes(this.current.id)) this.current = this.gallery.items[0] ?? null;
    this.toasts.show(ids.length === 1 ? 'Image deleted' : `${ids.length} images deleted`, {
      action: {
        label: 'Undo',
        run: async () => {
          const restored = await this.gallery.undoDelete();
          this.toasts.show(`Restored ${restored} ${restored === 1 ? 'image' : 'images'}`);
        },
      },
    });
  }

  async toggleFavourite(item: HistoryItem): Promise<void> {
    try {
      const updated = await this.gallery.toggleFavourite(item);
      if (this.current?.id === updated.id) this.current = updated;
    } catch (error) {
      this.toasts.error(errorMessage(error));
    }
  }

  /** Preview asked for but no TAESD installed: Settings says so and points to the Models view. */
  get previewUnavailable(): boolean {
    return this.settings?.preview === 'preview-then-full' && this.models.loaded && !this.models.hasPreviewDecoder;
  }

  async saveSettings(patch: Partial<Settings>): Promise<void> {
    try {
      this.settings = await this.api.call('settings.set', patch);
      this.toasts.show('Settings saved');
    } catch (error) {
      this.toasts.error(errorMessage(error));
    }
  }

  /** Starts an export; the dialog follows it through `exports[exportId]`, or shows the error. */
  async startExport(target: { ids?: string[]; to: string; nameTemplate: string; stripMetadata: boolean }): Promise<{ exportId: string } | { error: string }> {
    try {
      const selection = target.ids?.length ? { ids: target.ids } : { query: this.gallery.query };
      const { exportId } = await this.api.call('export.start', {
        selection,
        to: target.to,
        nameTemplate: target.nameTemplate,
        stripMetadata: target.stripMetadata,
      });
      return { exportId };
    } catch (error) {
      return { error: errorMessage(error) };
    }
  }

  #pickDefaultModels(): void {
    const bases = this.models.bases;
    const preferred = this.settings?.defaultBaseModelId;
    if (!this.form.baseModelId || !this.models.byId(this.form.baseModelId)) {
      this.form.baseModelId = bases.find((m) => m.id === preferred)?.id ?? bases[0]?.id ?? '';
    }
    if (this.#loraChosen) return;
    const lora = this.models.byId(this.settings?.defaultLoraId) ?? this.models.loras[0];
    if (lora?.kind === 'lora') {
      this.form.loraId = lora.id;
      this.#loraChosen = true;
    }
  }

  /** A reused request may name a model that is no longer installed: fall back, and say so. */
  #keepKnownModels(): void {
    if (!this.models.byId(this.form.baseModelId)) {
      const missing = this.form.baseModelId;
      this.form.baseModelId = this.models.bases[0]?.id ?? '';
      if (missing) this.toasts.error(`Base model “${missing}” is not installed; using ${this.form.baseModelId || 'none'}`);
    }
    if (this.form.loraId && !this.models.byId(this.form.loraId)) this.form.loraId = null;
  }
}
