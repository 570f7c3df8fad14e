// The ONNX sessions behind a pipeline, for the bench's reports (graph-cache outcomes, profiles).
import type { ModelSession } from '../src/onnx/session.ts';
import type { StableDiffusionPipeline } from '../src/pipeline/pipeline.ts';

/** The pipeline's sessions, in the order a generation runs them (the UNet's text-free prefix before its rest). */
export function pipelineSessions(pipeline: StableDiffusionPipeline): ModelSession[] {
  // Components are interfaces; the ONNX-backed ones hold their session(s) as these fields.
  const parts = pipeline.components as unknown as Record<string, { session?: ModelSession; prefix?: ModelSession } | undefined>;
  return ['textEncoder', 'unet', 'previewDecoder', 'vaeDecoder'].flatMap((name) => [parts[name]?.prefix, parts[name]?.session].filter((s): s is ModelSession => s !== undefined));
}

/** ".../unet/model.onnx (rest)" -> "unet (rest)". */
export const shortLabel = (label: string): string => label.replace(/^.*[\\/]([^\\/]+)[\\/]model\.onnx/, '$1');
