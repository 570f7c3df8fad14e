// The UNet's graphs in the chosen form, for a model file or a LoRA-patched model in memory. Only the
// graph is rewritten: the weights stay where they are (the file's external data, read from its
// folder, or the patched weights handed over in memory), so a 3.4 GB UNet costs a graph decode
// (~0.4 MB) instead of a copy of its weights.
//  - attention 'fused': the export's attention as MultiHeadAttention nodes (./attention-fusion.ts);
//  - layers 'fast', for the CPU: upsample convs as 2x2 phases (./subpixel-upsample.ts; SD 1.5 at
//    512², 640 ch to 64², 1280 to 32² and to 16²: a guided pair 6.08-6.12 -> 5.78-5.98 s on 2
//    cores) and GEGLU's projection as two halves (./geglu-halves.ts; bit-identical, ~30 ms a call);
//  - sharedPrefix: two graphs, the text-free prefix and the rest (./text-free-prefix.ts), so a
//    guided step runs the prefix once for both texts;
//  - precision 'float16', for GPU providers: the arithmetic in half precision, inputs and outputs
//    float32 (./half-precision.ts).
import { statSync } from 'node:fs';
import type { OnnxValueInfo } from '../inspect.ts';
import type { ExecutionProvider } from '../providers.ts';
import type { ModelSource } from '../session.ts';
import { fuseAttention } from './attention-fusion.ts';
import { EditableModel } from './editable-model.ts';
import { splitGegluProjections } from './geglu-halves.ts';
import { computeInHalf, type Precision } from './half-precision.ts';
import { rewriteUpsampleConvs } from './subpixel-upsample.ts';
import { keepPrefix, keepSuffix, textFreeCut } from './text-free-prefix.ts';

const INLINE_WEIGHTS_BYTES = 256 * 2 ** 20;
/** The UNet input the text-free prefix must not read. */
export const TEXT_INPUT = 'encoder_hidden_states';

/** 'fused': MultiHeadAttention where the export's attention is recognised; 'exported': as it is. */
export type UnetAttention = 'exported' | 'fused';

export interface UnetForm {
  attention: UnetAttention;
  layers: 'exported' | 'fast';
  sharedPrefix: boolean;
  precision: Precision;
}

export const EXPORTED_UNET: UnetForm = { attention: 'exported', layers: 'exported', sharedPrefix: false, precision: 'float32' };

/**
 * Fused on every provider the sessions got but CoreML and WebGPU (a provider asked for that failed
 * to start and fell back to the CPU gets the CPU's form). CoreML has no MultiHeadAttention kernel,
 * so those nodes would run on the CPU between CoreML partitions. WebGPU's kernel (onnxruntime 1.30)
 * gave wrong values from 32 tokens on (max error 0.15-0.23 on values up to 1.4 against the CPU's,
 * on Mesa's Vulkan; 16 tokens were exact).
 */
export function attentionFor(choice: 'auto' | UnetAttention, provider: ExecutionProvider): UnetAttention {
  if (choice !== 'auto') return choice;
  return provider === 'coreml' || provider === 'webgpu' ? 'exported' : 'fused';
}

export interface GraphSource {
  /** The model to open: rewritten bytes, or the source as given when nothing was rewritten. */
  source: ModelSource;
  /** Folder the rewritten bytes' external data files are read from (a file source's folder). */
  externalDataDir?: string;
}

/**
 * One graph, or the prefix and the rest; `form` is what was applied (a graph may not allow all).
 * The rest is made once the prefix is open: its inputs are declared as the prefix session's outputs.
 */
export type UnetGraphs = { form: UnetForm } & ({ whole: GraphSource } | { prefix: GraphSource; suffix: (prefixOutputs: readonly OnnxValueInfo[]) => GraphSource });

export async function unetGraphs(source: ModelSource, wanted: UnetForm): Promise<UnetGraphs> {
  const asIs = { form: EXPORTED_UNET, whole: { source } };
  if (isExported(wanted)) return asIs;
  // A .onnx file this large holds its weights inline: a half-precision export (a float32 SD 1.5 UNet
  // is 3.4 GB, so it always keeps them outside), which none of the rewrites apply to.
  if (typeof source === 'string' && statSync(source).size > INLINE_WEIGHTS_BYTES) return asIs;
  const label = typeof source === 'string' ? source : 'UNet';
  let attention = wanted.attention;
  const edited = async (): Promise<{ m: EditableModel; form: UnetForm }> => {
    let m = await EditableModel.open(source);
    let fused = false;
    if (attention === 'fused') {
      try {
        fused = fuseAttention(m).length > 0;
      } catch (e) {
        // A graph the fusion cannot rewrite cleanly still generates, at the exported attention's speed.
        console.warn(`${label}: attention left as exported (${(e as Error).message})`);
        attention = 'exported';
        m = await EditableModel.open(source);
      }
    }
    const fast = wanted.layers === 'fast' && rewriteUpsampleConvs(m).length + splitGegluProjections(m).length > 0;
    const halved = wanted.precision === 'float16' && computeInHalf(m).length > 0;
    return { m, form: { attention: fused ? 'fused' : 'exported', layers: fast ? 'fast' : 'exported', sharedPrefix: false, precision: halved ? 'float16' : 'float32' } };
  };
  const { m, form } = await edited();
  const cut = wanted.sharedPrefix ? textFreeCut(m, TEXT_INPUT) : undefined;
  if (cut) {
    keepPrefix(m, cut);
    const rest = (await edited()).m;
    const suffix = (prefixOutputs: readonly OnnxValueInfo[]) => {
      keepSuffix(rest, TEXT_INPUT, prefixOutputs);
      return rest.toSource();
    };
    return { form: { ...form, sharedPrefix: true }, prefix: m.toSource(), suffix };
  }
  if (isExported(form)) return asIs;
  return { form, whole: m.toSource() };
}

function isExported(f: UnetForm): boolean {
  return !f.sharedPrefix && f.attention === 'exported' && f.layers === 'exported' && f.precision === 'float32';
}
