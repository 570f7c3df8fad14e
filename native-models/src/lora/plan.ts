// Decides, before any weight is touched, which LoRA layer patches which graph weight. Either the
// whole LoRA fits (every matched layer has the right shapes) or it is refused with a message that
// says why — nothing is ever half-applied.
import type { GraphTarget } from './graph-targets.ts';
import type { LoraComponent, LoraLayer, ParsedLora } from './lora-file.ts';

export class LoraMismatchError extends Error {
  override name = 'LoraMismatchError';
}

export interface PlannedLayer {
  layer: LoraLayer;
  target: GraphTarget;
}

export interface LoraPlan {
  component: LoraComponent;
  layers: PlannedLayer[];
  /** File keys of this component's layers that found no weight in the graph. */
  unmatchedKeys: string[];
}

const SDXL_HINTS = [/^input_blocks_/, /^output_blocks_/, /^middle_block_/];

/** Cross-attention key/value layers read the text encoder's width: 768 SD 1.x, 1024 SD 2.x, 2048 SDXL. */
function familyHint(layers: readonly LoraLayer[]): string | undefined {
  for (const layer of layers) {
    if (!/attn2_to_[kv]$/.test(layer.flatName)) continue;
    const width = layer.downShape[1];
    if (width === 2048) return 'SDXL';
    if (width === 1024) return 'SD 2.x';
  }
  return undefined;
}

function shapeError(layer: LoraLayer, target: GraphTarget): string | undefined {
  const downIn = layer.downShape.slice(1).reduce((a, b) => a * b, 1);
  const upOut = layer.upShape[0]!;
  const upTail = layer.upShape.slice(2).reduce((a, b) => a * b, 1);
  const downKernel = layer.downShape.slice(2);
  const kernelOk =
    target.kernel.length === 0 ? downKernel.every((k) => k === 1) : downKernel.length === 0 || downKernel.join() === target.kernel.join();
  if (upOut === target.outFeatures && downIn === target.inFeatures && upTail === 1 && kernelOk) return undefined;
  return `${layer.keys[0]}: LoRA maps ${downIn} -> ${upOut} (down ${JSON.stringify(layer.downShape)}), the model's ${target.nodeName} weight is ${JSON.stringify(target.dims)}`;
}

/**
 * @param modelLabel how messages name the model, e.g. `SD 1.5 UNet`
 */
export function planLora(
  lora: ParsedLora,
  component: LoraComponent,
  targets: ReadonlyMap<string, GraphTarget>,
  modelLabel: string,
): LoraPlan {
  const own = lora.layers.filter((l) => l.component === component);
  const layers: PlannedLayer[] = [];
  const unmatchedKeys: string[] = [];
  const mismatches: string[] = [];
  const misfits: LoraLayer[] = [];
  for (const layer of own) {
    const target = targets.get(layer.flatName);
    if (!target) {
      unmatchedKeys.push(...layer.keys);
      continue;
    }
    const error = shapeError(layer, target);
    if (error) {
      mismatches.push(error);
      misfits.push(layer);
    } else layers.push({ layer, target });
  }
  const sdxlLike = lora.foreignKeys.length > 0 || own.some((l) => SDXL_HINTS.some((h) => h.test(l.flatName)));
  const family = sdxlLike ? 'SDXL' : familyHint(misfits);
  const hint = family ? ` It looks like an ${family} LoRA; use a LoRA made for SD 1.5.` : ' Use a LoRA made for SD 1.5 base models.';
  if (mismatches.length > 0) {
    const shown = mismatches.slice(0, 3).join('; ');
    throw new LoraMismatchError(
      `This LoRA does not fit the ${modelLabel}: ${mismatches.length} of ${own.length} layers have other shapes (${shown}${mismatches.length > 3 ? '; …' : ''}).${hint}`,
    );
  }
  if (own.length > 0 && layers.length === 0) {
    throw new LoraMismatchError(
      `This LoRA does not fit the ${modelLabel}: none of its ${own.length} ${component} layers names a layer of the model (first: ${own[0]!.keys[0]}).${hint}`,
    );
  }
  return { component, layers, unmatchedKeys };
}

/** Refuses a LoRA with nothing this app can apply (no UNet or text-encoder layer at all). */
export function assertHasLayers(lora: ParsedLora, label: string): void {
  if (lora.layers.length > 0) return;
  const sample = [...lora.foreignKeys, ...lora.unrecognizedKeys].slice(0, 3).join(', ');
  const sdxl = lora.foreignKeys.length > 0 ? ' It looks like an SDXL LoRA; use a LoRA made for SD 1.5.' : '';
  throw new LoraMismatchError(
    `${label} holds no SD 1.5 UNet or text-encoder LoRA layer (keys such as ${sample || '(none)'}).${sdxl}`,
  );
}
