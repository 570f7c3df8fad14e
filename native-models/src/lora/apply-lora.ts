// Checks a LoRA against the UNet (and text encoder, when the file has layers for it) and fuses it.
// All planning happens before any fusion, so a LoRA that does not fit is refused whole.
import type { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { FuseKernel } from './fuse-kernel.ts';
import { fuseLora, type PatchedModel } from './fuse-lora.ts';
import { findGraphTargets } from './graph-targets.ts';
import type { LoraComponent, ParsedLora } from './lora-file.ts';
import { assertHasLayers, planLora, type LoraPlan } from './plan.ts';

export interface LoraReport {
  scale: number;
  /** Layers fused, per component. */
  applied: Record<LoraComponent, number>;
  /** File keys that name a layer the models do not have (or a component that was not given). */
  unmatchedKeys: string[];
  /** File keys in no LoRA format this app reads, or for components SD 1.5 does not have. */
  ignoredKeys: string[];
}

export interface LoraModels {
  unet: OnnxModel;
  textEncoder?: OnnxModel;
}

export interface LoraApplication {
  /** Undefined when nothing changes (scale 0, or no layer for the component): use the base model. */
  unet?: PatchedModel;
  textEncoder?: PatchedModel;
  report: LoraReport;
}

const LABELS: Record<LoraComponent, string> = { unet: 'SD 1.5 UNet', text_encoder: 'SD 1.5 text encoder' };

export function checkLora(lora: ParsedLora, models: LoraModels, scale: number, fileLabel = 'This LoRA'): { plans: LoraPlan[]; report: LoraReport } {
  if (!Number.isFinite(scale)) throw new Error(`LoRA scale must be a finite number, got ${scale}`);
  assertHasLayers(lora, fileLabel);
  const plans: LoraPlan[] = [];
  const unmatchedKeys: string[] = [];
  for (const [component, model] of [['unet', models.unet], ['text_encoder', models.textEncoder]] as const) {
    if (!model) {
      unmatchedKeys.push(...lora.layers.filter((l) => l.component === component).flatMap((l) => l.keys));
      continue;
    }
    const plan = planLora(lora, component, findGraphTargets(model), LABELS[component]);
    unmatchedKeys.push(...plan.unmatchedKeys);
    plans.push(plan);
  }
  const applied = { unet: 0, text_encoder: 0 };
  for (const plan of plans) applied[plan.component] = scale === 0 ? 0 : plan.layers.length;
  return { plans, report: { scale, applied, unmatchedKeys, ignoredKeys: [...lora.unrecognizedKeys, ...lora.foreignKeys] } };
}

export async function applyLora(lora: ParsedLora, models: LoraModels, scale: number, fileLabel?: string): Promise<LoraApplication> {
  const { plans, report } = checkLora(lora, models, scale, fileLabel);
  const result: LoraApplication = { report };
  if (scale === 0) return result; // W + 0·ΔW = W: the base models, bit for bit
  const kernel = new FuseKernel();
  try {
    for (const plan of plans) {
      if (plan.layers.length === 0) continue;
      const model = plan.component === 'unet' ? models.unet : models.textEncoder!;
      const patched = await fuseLora(model, plan, scale, kernel);
      if (plan.component === 'unet') result.unet = patched;
      else result.textEncoder = patched;
    }
  } finally {
    await kernel.release();
  }
  return result;
}
