// The one typed table of commands and events between the renderer and the main side.
// The renderer knows only this file (and generation.ts); the main side implements every command
// once (a Handlers object) and serves it over two transports: Electron IPC (preload) and HTTP on
// loopback (`npm run serve`). Every input and output has a runtime schema: inputs are validated
// where they enter the main side, outputs where they enter the renderer.
import { z } from 'zod';
import { GenerationRequest } from './generation.ts';

const Id = z.string().min(1);
const IsoTime = z.string().datetime({ offset: true });

// ---- shared records ---------------------------------------------------------------------------

export const Provider = z.enum(['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu']);
export type Provider = z.infer<typeof Provider>;

export const HistoryItem = z.object({
  id: Id,
  createdAt: IsoTime,
  request: GenerationRequest,
  /** Seed of this very image (request.seed + batchIndex unless sharedNoise). */
  seed: z.number().int().nonnegative(),
  batchId: z.string(),
  batchIndex: z.number().int().nonnegative(),
  baseModelName: z.string(),
  loraName: z.string().nullable(),
  provider: z.string(),
  timingsMs: z.record(z.string(), z.number()),
  /** Paths relative to the data folder; the transport turns them into URLs. */
  imagePath: z.string(),
  thumbnailPath: z.string().nullable(),
  favourite: z.boolean(),
  /** The image file was not found at the last reconcile. */
  missing: z.boolean(),
  tags: z.array(z.string()),
});
export type HistoryItem = z.infer<typeof HistoryItem>;

export const HistoryQuery = z.object({
  search: z.string().max(500).optional(),
  baseModelId: z.string().optional(),
  favouritesOnly: z.boolean().optional(),
  since: IsoTime.optional(),
  until: IsoTime.optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const JobState = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export const Job = z.object({
  id: Id,
  state: JobState,
  request: GenerationRequest,
  /** 'studio' for the app, 'a1111' for the compatible HTTP API. */
  origin: z.enum(['studio', 'a1111']),
  createdAt: IsoTime,
  /** History ids of the images this job has saved so far. */
  imageIds: z.array(Id),
  error: z.string().nullable(),
  progress: z
    .object({ stage: z.string(), step: z.number().int(), steps: z.number().int() })
    .nullable(),
});
export type Job = z.infer<typeof Job>;

/** 'preview-decoder': TAESD, shared by every SD 1.5 base for the quick preview. */
export const ModelKind = z.enum(['base', 'lora', 'preview-decoder']);
export type ModelKind = z.infer<typeof ModelKind>;
export const InstalledModel = z.object({
  id: Id,
  name: z.string(),
  kind: ModelKind,
  /** Path relative to the models folder. */
  path: z.string(),
  sizeBytes: z.number().nonnegative(),
  source: z.enum(['catalog', 'imported', 'checkpoint']),
  recommended: z.object({ steps: z.number().int(), guidance: z.number() }).nullable(),
});
export type InstalledModel = z.infer<typeof InstalledModel>;

export const CatalogEntry = z.object({
  id: Id,
  name: z.string(),
  kind: ModelKind,
  description: z.string(),
  sizeBytes: z.number().nonnegative().nullable(),
  license: z.string(),
  installed: z.boolean(),
  /** Set when the catalog cannot download this model and says how to get it instead. */
  manualInstructions: z.string().nullable(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const DownloadState = z.object({
  id: Id,
  catalogId: z.string(),
  state: z.enum(['queued', 'downloading', 'paused', 'verifying', 'done', 'failed', 'cancelled']),
  receivedBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().nullable(),
  bytesPerSecond: z.number().nonnegative(),
  error: z.string().nullable(),
});
export type DownloadState = z.infer<typeof DownloadState>;

/**
 * 'normal': the fastest settings (peak ≈1.46x the model's weights on CPU); 'low': no memory arenas
 * and direct VAE convolutions (≈1.27x, the VAE ≈55 % slower on CPU), for machines short of RAM.
 */
export const MemoryMode = z.enum(['normal', 'low']);
export type MemoryMode = z.infer<typeof MemoryMode>;

export const Settings = z.object({
  provider: Provider,
  defaultBaseModelId: z.string().nullable(),
  defaultLoraId: z.string().nullable(),
  preview: z.enum(['full-only', 'preview-then-full']),
  memory: MemoryMode.default('normal'),
});
export type Settings = z.infer<typeof Settings>;

export const ExportTarget = z.object({
  selection: z.union([
    z.object({ ids: z.array(Id).min(1) }),
    z.object({ query: HistoryQuery.omit({ cursor: true, limit: true }) }),
  ]),
  /** Absolute path of a folder or a .zip file on the machine running the main side. */
  to: z.string().min(1),
  nameTemplate: z.string().default('{index}-{seed}-{prompt}'),
  stripMetadata: z.boolean().default(false),
});
export type ExportTarget = z.infer<typeof ExportTarget>;

export const ExportReport = z.object({
  id: Id,
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  exported: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  error: z.string().nullable(),
  to: z.string(),
});
export type ExportReport = z.infer<typeof ExportReport>;

export const InferenceStatus = z.object({
  state: z.enum(['starting', 'ready', 'busy', 'crashed', 'restarting']),
  provider: z.string().nullable(),
  message: z.string().nullable(),
});
export type InferenceStatus = z.infer<typeof InferenceStatus>;

export const JobPreview = z.object({
  jobId: Id,
  /** Which image of the job's batch. */
  batchIndex: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The picture as a PNG data URL (a few hundred KB at 512²; nothing is written to disk). */
  image: z.string().startsWith('data:image/png;base64,'),
  /** Milliseconds from the start of the generation (after model loading) to the preview. */
  afterMs: z.number().nonnegative(),
});
export type JobPreview = z.infer<typeof JobPreview>;

/** A live preview: the quick picture of the form's current settings, never saved. */
export const LivePicture = z.object({
  image: JobPreview.shape.image,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  /** Milliseconds from the request to the picture (model loading included). */
  ms: z.number().nonnegative(),
});
export type LivePicture = z.infer<typeof LivePicture>;

// ---- commands ---------------------------------------------------------------------------------

const command = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });
const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

export const commands = {
  'app.info': command(
    Empty,
    z.object({
      version: z.string(),
      dataDir: z.string(),
      modelsDir: z.string(),
      platform: z.string(),
      providers: z.array(Provider),
      inference: InferenceStatus,
    }),
  ),
  'settings.get': command(Empty, Settings),
  'settings.set': command(Settings.partial(), Settings),

  'generate.enqueue': command(
    z.object({
      request: GenerationRequest,
      /** Batch count: jobs made one after another with seed, seed+batchSize, … */
      count: z.number().int().min(1).max(100).default(1),
      /** Prompts from a list: one job per prompt (× count), replacing request.prompt. */
      prompts: z.array(z.string()).max(1000).optional(),
    }),
    z.object({ jobIds: z.array(Id) }),
  ),
  /** Loads a base model (and LoRA) in the inference process ahead of the first generate. */
  'generate.prepare': command(
    z.object({ baseModelId: Id, lora: z.object({ id: Id, scale: z.number() }).nullable() }),
    Ok,
  ),
  /**
   * Live mode: the quick picture (TAESD when installed) of the form's settings while the user types,
   * not saved and not queued. A newer call replaces a running one (it fails with conflict); while
   * the queue is generating it fails with unavailable.
   */
  'generate.live': command(z.object({ request: GenerationRequest }), LivePicture),
  'jobs.list': command(Empty, z.array(Job)),
  'jobs.cancel': command(z.object({ jobId: Id }), Ok),
  'jobs.cancelAll': command(Empty, Ok),
  'jobs.move': command(z.object({ jobId: Id, toIndex: z.number().int().nonnegative() }), Ok),

  'history.list': command(
    HistoryQuery,
    z.object({ items: z.array(HistoryItem), nextCursor: z.string().nullable(), total: z.number().int() }),
  ),
  'history.get': command(z.object({ id: Id }), HistoryItem),
  'history.setFavourite': command(z.object({ id: Id, favourite: z.boolean() }), HistoryItem),
  'history.delete': command(z.object({ ids: z.array(Id).min(1) }), z.object({ undoToken: Id })),
  'history.undoDelete': command(z.object({ undoToken: Id }), z.object({ restored: z.number().int() })),
  'history.reuse': command(z.object({ id: Id }), GenerationRequest),
  /** Reads the parameters of a dropped PNG (ours, A1111 or ComfyUI); base64 of the file. */
  'history.readPngParameters': command(
    z.object({ pngBase64: z.string().max(64 * 1024 * 1024) }),
    z.object({ request: GenerationRequest.partial(), source: z.enum(['yoso', 'a1111', 'comfyui']) }),
  ),

  'export.start': command(ExportTarget, z.object({ exportId: Id })),
  'export.cancel': command(z.object({ exportId: Id }), Ok),

  'models.list': command(Empty, z.array(InstalledModel)),
  'models.catalog': command(Empty, z.array(CatalogEntry)),
  'models.pull': command(z.object({ catalogId: Id }), z.object({ downloadId: Id })),
  'models.pause': command(z.object({ downloadId: Id }), Ok),
  'models.resume': command(z.object({ downloadId: Id }), Ok),
  'models.cancelPull': command(z.object({ downloadId: Id }), Ok),
  'models.import': command(z.object({ path: z.string().min(1) }), InstalledModel),
  /** The renderer asks the user first; `confirm` must be true. */
  'models.remove': command(z.object({ id: Id, confirm: z.literal(true) }), Ok),
} as const;

export type CommandName = keyof typeof commands;
export type CommandInput<K extends CommandName> = z.input<(typeof commands)[K]['input']>;
export type CommandOutput<K extends CommandName> = z.output<(typeof commands)[K]['output']>;

/** What the main side implements once, for every transport. Inputs arrive already validated. */
export type Handlers = {
  [K in CommandName]: (input: z.output<(typeof commands)[K]['input']>) => Promise<CommandOutput<K>>;
};

// ---- events (main -> renderer) ----------------------------------------------------------------

export const events = {
  'job.updated': Job,
  'history.added': HistoryItem,
  'history.changed': z.object({ ids: z.array(Id) }),
  'download.updated': DownloadState,
  'export.updated': ExportReport,
  'inference.status': InferenceStatus,
  /** A quick preview (TAESD) of a running job's image; its full image follows as history.added. Never saved. */
  'job.preview': JobPreview,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

/** The renderer's view of a transport (IPC in Electron, HTTP + SSE in a browser). */
export interface ApiClient {
  call<K extends CommandName>(name: K, input: CommandInput<K>): Promise<CommandOutput<K>>;
  on<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void;
  /** URL of a file inside the data folder (image or thumbnail), e.g. `yoso-file://…` or `/files/…`. */
  fileUrl(relativePath: string): string;
  /** 'electron' or 'http': only for features that exist on one (open containing folder). */
  readonly kind: 'electron' | 'http';
}

/** Errors cross every transport in this shape; `code` lets the UI pick a message or an action. */
export const ApiError = z.object({
  code: z.enum(['invalid_input', 'not_found', 'conflict', 'unavailable', 'internal']),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ApiError = z.infer<typeof ApiError>;
