// LoRA figures for `npm run bench -- --lora FILE`: cold fusion (read, fuse, open), switching to
// the base model and back (kept sessions), a cold switch to another scale, and peak memory.
import { loadModelFolder } from '../src/model/model-folder.ts';
import type { SessionOptions } from '../src/onnx/session.ts';
import { LoraUnets, type LoraSwitch } from '../src/lora/lora-pipeline.ts';
import type { StableDiffusionPipeline } from '../src/pipeline/pipeline.ts';

export interface LoraBenchFigures {
  cold: LoraSwitch['timings'] & { totalMs: number; appliedLayers: number };
  swapToBaseMs: number;
  swapBackToLoraMs: number;
  coldOtherScaleMs: number;
  keptBytes: number;
  peakRssBytes: number;
}

const MIB = 2 ** 20;

async function timed(action: () => Promise<LoraSwitch>): Promise<{ ms: number; change: LoraSwitch }> {
  const started = performance.now();
  const change = await action();
  return { ms: performance.now() - started, change };
}

/** Leaves `pipeline` on the LoRA at `scale`, so the generation figures that follow include it. */
export async function benchLora(
  pipeline: StableDiffusionPipeline,
  modelDir: string,
  lora: { path: string; scale: number },
  sessions: SessionOptions,
): Promise<{ loras: LoraUnets; figures: LoraBenchFigures }> {
  const folder = loadModelFolder(modelDir);
  const loras = new LoraUnets(sessions);
  const cold = await timed(() => loras.apply(pipeline, folder, lora));
  const toBase = await timed(() => loras.apply(pipeline, folder));
  const back = await timed(() => loras.apply(pipeline, folder, lora));
  const other = await timed(() => loras.apply(pipeline, folder, { ...lora, scale: lora.scale / 2 }));
  if (!back.change.reused || !toBase.change.reused) throw new Error('kept sessions were not reused (memory budget too small?)');
  await loras.apply(pipeline, folder, lora);
  return {
    loras,
    figures: {
      cold: { ...cold.change.timings, totalMs: cold.ms, appliedLayers: cold.change.report?.applied.unet ?? 0 },
      swapToBaseMs: toBase.ms,
      swapBackToLoraMs: back.ms,
      coldOtherScaleMs: other.ms,
      keptBytes: loras.keptBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
}

export function formatLoraFigures(f: LoraBenchFigures): string {
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  return (
    `lora: ${f.cold.appliedLayers} layers | cold ${ms(f.cold.totalMs)} (read ${ms(f.cold.readMs)}, fuse ${ms(f.cold.fuseMs)}, ` +
    `open ${ms(f.cold.openMs)}) | swap to base (kept) ${ms(f.swapToBaseMs)} | back to LoRA (kept) ${ms(f.swapBackToLoraMs)} | ` +
    `cold swap to another scale ${ms(f.coldOtherScaleMs)} | kept ${(f.keptBytes / MIB).toFixed(0)} MiB | peak RSS ${(f.peakRssBytes / MIB).toFixed(0)} MiB`
  );
}
