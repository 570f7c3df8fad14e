// The inference process's use of the native-models pipeline: load (and keep) the pipeline of a
// model folder, run one request with progress and an AbortSignal (checked between UNet steps),
// hand back raw pixels (the main side's history encodes the PNG with its metadata).
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import {
  StableDiffusionPipeline,
  availableBackends,
  isProviderChoice,
  type StageTimings,
} from '../../native-models/src/index.ts';
import type { ToWorker, WorkerImage } from './protocol.ts';

type GenerateMessage = Extract<z.output<typeof ToWorker>, { type: 'generate' }>;

export interface WorkerCallbacks {
  onProgress(stage: string, step: number, steps: number): void;
  onImage(image: WorkerImage): void;
}

// One pipeline at a time: an SD 1.5 pipeline holds ~2 GB; switching models releases the old one.
let loaded: { key: string; pipeline: Promise<StableDiffusionPipeline> } | null = null;

export async function availableProviders(): Promise<string[]> {
  return availableBackends();
}

async function pipelineFor(baseDir: string, provider: string): Promise<{ pipeline: StableDiffusionPipeline; loadMs: number }> {
  const choice = isProviderChoice(provider) ? provider : 'auto';
  const key = `${choice}\n${baseDir}`;
  if (loaded?.key === key) return { pipeline: await loaded.pipeline, loadMs: 0 };
  await releaseLoaded();
  const started = performance.now();
  const pipeline = StableDiffusionPipeline.fromFolder(baseDir, { provider: choice });
  loaded = { key, pipeline };
  try {
    return { pipeline: await pipeline, loadMs: performance.now() - started };
  } catch (error) {
    loaded = null;
    throw error;
  }
}

async function releaseLoaded(): Promise<void> {
  const previous = loaded;
  loaded = null;
  if (previous) await (await previous.pipeline.catch(() => null))?.release();
}

function flatTimings(t: StageTimings, loadMs: number): Record<string, number> {
  const unet = t.unetMs.reduce((a, b) => a + b, 0);
  return { load: loadMs, text: t.textMs, unet, scheduler: t.schedulerMs, vae: t.vaeMs, ort: t.ortMs, total: t.totalMs + loadMs };
}

export async function generate(
  message: GenerateMessage,
  signal: AbortSignal,
  callbacks: WorkerCallbacks,
): Promise<{ provider: string; timingsMs: Record<string, number> }> {
  const { request, models } = message;
  signal.throwIfAborted();
  if (models.loraPath) throw new Error('LoRA fusion is not in this build yet; generate without a LoRA');
  callbacks.onProgress('load', 0, request.steps);
  const { pipeline, loadMs } = await pipelineFor(models.baseDir, message.provider);
  const result = await pipeline.generate({
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
    onProgress: (event) => callbacks.onProgress(event.stage, event.step, event.totalSteps),
  });
  const provider = result.provider.used;
  const timingsMs = flatTimings(result.timings, loadMs);
  for (const image of result.images) {
    callbacks.onImage({
      batchIndex: image.index,
      seed: Number(image.seed),
      pixels: image.rgb,
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
  if (loaded?.key.endsWith(`\n${baseDir}`)) await releaseLoaded();
}
