// Measures one generation setting on a warm pipeline: per-stage medians, time per image, and the
// overhead ratio (end-to-end time ÷ time inside onnxruntime's run()). Reusable by other bench modes.
import type { StableDiffusionPipeline, StageTimings } from '../src/pipeline/pipeline.ts';
import type { DecodeMode } from '../src/pipeline/request.ts';

export interface BenchSetting {
  steps: number;
  guidance: number;
  width: number;
  height: number;
  batchSize: number;
  /** Default 'full'. */
  decode?: DecodeMode;
}

/** Stage timings are medians over the runs (unetMs: the median of each call, in step order). */
export interface BenchFigures extends BenchSetting, StageTimings {
  runs: number;
  perImageMs: number;
  /** Sum of end-to-end times ÷ sum of time inside onnxruntime, over all measured runs. */
  overhead: number;
  /** The same without PNG encoding (prompt -> RGB pixels). */
  overheadWithoutPng: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

let generations = 0;

/**
 * The request of one bench generation. Each gets a seed of its own (`seed`, default 318, then one
 * more for every generation in the process): with a seed again and the same texts, the pipeline
 * would reuse a guided step's unconditional half (what editing the prompt gets in the app), and the
 * bench measures new pictures. The prompt stays, so texts come from the embedding cache as in the app.
 */
export function benchRequest(setting: BenchSetting, options: { prompt?: string; seed?: number }) {
  return { ...setting, prompt: options.prompt ?? 'a photo of a cat', seed: (options.seed ?? 318) + generations++ };
}

export async function warmUp(pipeline: StableDiffusionPipeline, setting: BenchSetting, options: { warmup: number; prompt?: string; seed?: number }): Promise<void> {
  for (let i = 0; i < options.warmup; i++) await pipeline.generate(benchRequest(setting, options));
}

export async function measure(
  pipeline: StableDiffusionPipeline,
  setting: BenchSetting,
  options: { runs: number; warmup: number; prompt?: string; seed?: number },
): Promise<BenchFigures> {
  await warmUp(pipeline, setting, options);
  const samples: StageTimings[] = [];
  for (let i = 0; i < options.runs; i++) samples.push((await pipeline.generate(benchRequest(setting, options))).timings);
  const pick = (f: (t: StageTimings) => number) => median(samples.map(f));
  const sum = (f: (t: StageTimings) => number) => samples.reduce((a, t) => a + f(t), 0);
  const totalMs = pick((t) => t.totalMs);
  return {
    ...setting,
    runs: options.runs,
    textMs: pick((t) => t.textMs),
    noiseMs: pick((t) => t.noiseMs),
    unetMs: Array.from({ length: setting.steps }, (_, i) => pick((t) => t.unetMs[i]!)),
    schedulerMs: pick((t) => t.schedulerMs),
    vaeMs: pick((t) => t.vaeMs),
    previewMs: pick((t) => t.previewMs),
    firstPictureMs: pick((t) => t.firstPictureMs),
    pngMs: pick((t) => t.pngMs),
    totalMs,
    ortMs: pick((t) => t.ortMs),
    perImageMs: totalMs / setting.batchSize,
    overhead: sum((t) => t.totalMs) / sum((t) => t.ortMs),
    overheadWithoutPng: sum((t) => t.totalMs - t.pngMs) / sum((t) => t.ortMs),
  };
}

const f1 = (v: number) => v.toFixed(1);

export function formatFigures(f: BenchFigures): string {
  return (
    `steps ${f.steps} guidance ${f.guidance} ${f.width}x${f.height} batch ${f.batchSize} (median of ${f.runs}): ` +
    `text ${f1(f.textMs)} ms | noise ${f1(f.noiseMs)} ms | unet ${f.unetMs.map(f1).join(' + ')} ms | scheduler ${f1(f.schedulerMs)} ms | ` +
    `${f.previewMs > 0 ? `preview ${f1(f.previewMs)} ms | ` : ''}vae ${f1(f.vaeMs)} ms | first picture ${f1(f.firstPictureMs)} ms | png ${f1(f.pngMs)} ms | total ${f1(f.totalMs)} ms | per image ${f1(f.perImageMs)} ms | ` +
    `inside onnxruntime ${f1(f.ortMs)} ms | overhead ${f.overhead.toFixed(3)}x (${f.overheadWithoutPng.toFixed(3)}x without png)`
  );
}
