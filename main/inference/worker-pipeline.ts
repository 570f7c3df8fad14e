// The inference process's use of the native-models pipeline: load (and keep) the pipeline of a
// model folder, run one request with progress and an AbortSignal (checked between UNet steps),
// hand back each image as the history's PNG and thumbnail, encoded here, off the main event loop
// (the main side adds the metadata chunks and writes the files).
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import {
  StableDiffusionPipeline,
  availableBackends,
  isProviderChoice,
  loadModelFolder,
  type ModelFolder,
  type StageTimings,
} from '../../native-models/src/index.ts';
import { LoraUnets } from '../../native-models/src/lora/lora-pipeline.ts';
import { LEAN_TUNING } from '../../native-models/src/pipeline/pipeline.ts';
import type { MemoryMode } from '../contract/api.ts';
import { encodeForHistory } from '../history/encode-image.ts';
import { OptimizedGraphCache } from '../../native-models/src/onnx/graph-cache.ts';
import { GRAPH_CACHE_ENV, type ResolvedModels, type ToWorker, type WorkerImage, type WorkerPreview } from './protocol.ts';
import { PreviewDecoderSlot, encodePreview } from './worker-preview.ts';
import { LiveLatents, liveKey } from './live-latents.ts';

type GenerateMessage = Extract<z.output<typeof ToWorker>, { type: 'generate' }>;

export interface WorkerCallbacks {
  onProgress(stage: string, step: number, steps: number): void;
  onImage(image: WorkerImage): void;
  /** Resolves once the preview has left the process (the full decoder then holds the thread). */
  onPreview?(preview: WorkerPreview): Promise<void>;
}

interface Loaded {
  pipeline: StableDiffusionPipeline;
  folder: ModelFolder;
  /** Patched UNets per (LoRA, scale), kept across generations (native-models/src/lora). */
  loras: LoraUnets;
  /** Which preview decoder (TAESD) the pipeline holds: the one the main side names per job. */
  preview: PreviewDecoderSlot;
}

// One base model at a time: an SD 1.5 pipeline holds ~2 GB; switching models releases the old one.
let loaded: { key: string; value: Promise<Loaded> } | null = null;

export async function availableProviders(): Promise<string[]> {
  return availableBackends();
}

/** Settings.memory 'low': no arenas or memory patterns anywhere and the models' own layers (the phase forms' weights are 1.8x the originals'). */
const LOW_MEMORY = { tuning: LEAN_TUNING, vaeConvolutions: 'direct', unetLayers: 'exported' } as const;

/** onnxruntime's optimised graphs on disk, where the main side names a folder (later loads skip optimising). */
const graphCache = process.env[GRAPH_CACHE_ENV] ? { graphCache: new OptimizedGraphCache(process.env[GRAPH_CACHE_ENV]) } : {};

async function load(baseDir: string, provider: string, memory: MemoryMode = 'normal'): Promise<{ model: Loaded; loadMs: number }> {
  const choice = isProviderChoice(provider) ? provider : 'auto';
  const key = `${choice}\n${memory}\n${baseDir}`;
  if (loaded?.key === key) return { model: await loaded.value, loadMs: 0 };
  await releaseLoaded();
  const started = performance.now();
  const value = (async (): Promise<Loaded> => {
    const folder = loadModelFolder(baseDir);
    const pipeline = await StableDiffusionPipeline.fromFolder(folder, { provider: choice, ...graphCache, ...(memory === 'low' ? LOW_MEMORY : {}) });
    // Sessions opened later (LoRA-patched UNets, a shared TAESD) get the pipeline's memory settings.
    const later = { provider: choice, ...graphCache, ...(memory === 'low' ? { tuning: LEAN_TUNING } : {}) };
    return { pipeline, folder, loras: new LoraUnets(later), preview: new PreviewDecoderSlot(pipeline, folder.dir, later) };
  })();
  loaded = { key, value };
  try {
    return { model: await value, loadMs: performance.now() - started };
  } catch (error) {
    loaded = null;
    throw error;
  }
}

const liveLatents = new LiveLatents();

async function releaseLoaded(): Promise<void> {
  liveLatents.clear();
  const previous = loaded;
  loaded = null;
  const model = previous ? await previous.value.catch(() => null) : null;
  if (!model) return;
  // The pipeline borrows the kept sessions: release it first, then what LoraUnets owns.
  await model.pipeline.release();
  await model.loras.release();
}

function flatTimings(t: StageTimings, loadMs: number): Record<string, number> & { total: number } {
  const unet = t.unetMs.reduce((a, b) => a + b, 0);
  return { load: loadMs, text: t.textMs, unet, scheduler: t.schedulerMs, vae: t.vaeMs, ort: t.ortMs, total: t.totalMs + loadMs };
}

/** Switches the loaded pipeline to the LoRA (or back to the plain UNet when there is none). */
async function applyLora(model: Loaded, models: ResolvedModels, scale: number | null): Promise<void> {
  await model.loras.apply(model.pipeline, model.folder, models.loraPath && scale !== null ? { path: models.loraPath, scale } : undefined);
}

/** Opens the base model's sessions and applies the LoRA now, so the next generate starts at once. */
export async function prepareModel(models: ResolvedModels, loraScale: number | null, provider: string, memory?: MemoryMode): Promise<void> {
  const { model } = await load(models.baseDir, provider, memory);
  await applyLora(model, models, loraScale);
  if (models.previewDecoderPath) await model.preview.use(models.previewDecoderPath);
}

export async function generate(
  message: GenerateMessage,
  signal: AbortSignal,
  callbacks: WorkerCallbacks,
): Promise<{ provider: string; timingsMs: Record<string, number> }> {
  const { request, models } = message;
  signal.throwIfAborted();
  callbacks.onProgress('load', 0, request.steps);
  const { model, loadMs } = await load(models.baseDir, message.provider, message.memory);
  signal.throwIfAborted();
  // Always switch: a request without a LoRA must get the plain UNet back after one with.
  const loraStarted = performance.now();
  await applyLora(model, models, request.lora?.scale ?? null);
  const loraMs = performance.now() - loraStarted;
  const preview = Boolean(models.previewDecoderPath && callbacks.onPreview) && (await model.preview.use(models.previewDecoderPath!));
  const previewOnly = message.previewOnly === true && callbacks.onPreview !== undefined;
  const key = liveKey(models, request);
  // Generate right after a live picture of the same settings: decode its latents, skip the UNet.
  const finalLatents = previewOnly ? undefined : liveLatents.find(key);
  const started = performance.now();
  const sendPreviews = async (rgbs: Uint8Array[], width: number, height: number) => {
    const afterMs = performance.now() - started;
    for (const [batchIndex, rgb] of rgbs.entries()) {
      await callbacks.onPreview!({ batchIndex, png: encodePreview(rgb, width, height), width, height, afterMs });
    }
  };
  const result = await model.pipeline.generate({
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    seed: request.seed,
    steps: request.steps,
    guidance: request.guidance,
    width: request.width,
    height: request.height,
    batchSize: request.batchSize,
    sharedNoise: request.sharedNoise,
    signal,
    png: false,
    decode: preview ? (previewOnly ? 'preview' : 'preview-then-full') : 'full',
    ...(finalLatents ? { finalLatents } : {}),
    onPreview: (images) => sendPreviews(images.rgb, images.width, images.height),
    onProgress: (event) => callbacks.onProgress(event.stage, event.step, event.totalSteps),
  });
  const provider = result.provider.used;
  const flat = flatTimings(result.timings, loadMs);
  const timingsMs = { ...flat, lora: loraMs, total: flat.total + loraMs, ...(finalLatents ? { reusedLivePicture: 1 } : {}) };
  if (previewOnly) {
    liveLatents.remember(key, result.latents.final);
    // Without a preview decoder the live picture is the full decode, sent the same way.
    const [first] = result.images;
    if (!preview && first) await sendPreviews(result.images.map((i) => i.rgb), first.width, first.height);
    return { provider, timingsMs };
  }
  for (const image of result.images) {
    const { png, thumbnailPng } = await encodeForHistory({ width: image.width, height: image.height, channels: 3, data: image.rgb });
    callbacks.onImage({
      batchIndex: image.index,
      seed: Number(image.seed),
      png,
      thumbnailPng,
      width: image.width,
      height: image.height,
      channels: 3,
      provider,
      timingsMs,
    });
  }
  return { provider, timingsMs };
}

export async function releaseModel(baseDir: string): Promise<void> {
  if (loaded?.key.endsWith(`\n${baseDir}`)) return releaseLoaded();
  // Removing TAESD: the loaded base model stays, its preview decoder session goes.
  const model = loaded ? await loaded.value.catch(() => null) : null;
  await model?.preview.releaseIfUnder(baseDir);
}
