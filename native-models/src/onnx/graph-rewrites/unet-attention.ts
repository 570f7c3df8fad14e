// The UNet's graph with its attention fused (./attention-fusion.ts), for a model file or for a
// LoRA-patched model in memory. Only the graph is rewritten: the weights stay where they are (the
// file's external data, read from its folder, or the patched weights handed over in memory), so a
// 3.4 GB UNet costs a graph decode (~0.4 MB) instead of a copy of its weights.
import { statSync } from 'node:fs';
import { providerCandidates, type ProviderChoice } from '../providers.ts';
import type { ModelSource } from '../session.ts';
import { fuseAttention } from './attention-fusion.ts';
import { EditableModel } from './editable-model.ts';

const INLINE_WEIGHTS_BYTES = 256 * 2 ** 20;

/** 'fused': MultiHeadAttention where the export's attention is recognised; 'exported': as it is. */
export type UnetAttention = 'exported' | 'fused';

/**
 * Fused everywhere but where CoreML is the first provider tried (named, or 'auto' on macOS): it has
 * no MultiHeadAttention kernel, so those nodes would run on the CPU between CoreML partitions.
 */
export function attentionFor(choice: 'auto' | UnetAttention, provider: ProviderChoice | undefined, platform = process.platform): UnetAttention {
  if (choice !== 'auto') return choice;
  return providerCandidates(provider ?? 'auto', platform)[0] === 'coreml' ? 'exported' : 'fused';
}

export interface UnetGraph {
  /** The model to open: the rewritten bytes, or the source as given when nothing was fused. */
  source: ModelSource;
  /** Folder the rewritten bytes' external data files are read from (a file source's folder). */
  externalDataDir?: string;
  attention: UnetAttention;
}

export async function unetGraph(source: ModelSource, attention: UnetAttention): Promise<UnetGraph> {
  if (attention === 'exported') return { source, attention };
  // A .onnx file this large holds its weights inline: a half-precision export (a float32 SD 1.5 UNet
  // is 3.4 GB, so it always keeps them outside), whose attention stays as exported anyway.
  if (typeof source === 'string' && statSync(source).size > INLINE_WEIGHTS_BYTES) return { source, attention: 'exported' };
  const m = await EditableModel.open(source);
  try {
    if (fuseAttention(m).length === 0) return { source, attention: 'exported' };
  } catch (e) {
    // A graph the fusion cannot rewrite cleanly still generates, at the exported attention's speed.
    console.warn(`${typeof source === 'string' ? source : 'UNet'}: attention left as exported (${(e as Error).message})`);
    return { source, attention: 'exported' };
  }
  return { ...m.toSource(), attention };
}
