// Fuses a planned LoRA into a model without rewriting the model's untouched weights: the patched
// weights go into one in-memory external-data blob, the model bytes are re-spliced to point at it,
// and every other initializer keeps pointing where it was (inline, or the original
// `model.onnx_data` on disk, which onnxruntime memory-maps and the OS shares between sessions).
import { layoutBlob, sliceOf } from '../onnx/proto/external-data.ts';
import type { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { FuseKernel } from './fuse-kernel.ts';
import type { LoraPlan, PlannedLayer } from './plan.ts';

/** The in-memory file name patched weights live under (never written to disk). */
export const FUSED_WEIGHTS_LOCATION = 'yoso-lora-fused.bin';

export interface PatchedModel {
  modelBytes: Uint8Array;
  /** Patched weights; pass to onnxruntime as `externalData: [{ path: location, data }]`. */
  fusedWeights: { location: string; data: Buffer };
  /** The original model's folder, where its untouched external data still lives. */
  baseDir: string | undefined;
  appliedLayers: number;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** The factors A, B with A @ B = the delta in the weight's own layout, viewed as [rows, cols]. */
export function deltaFactors({ layer, target }: PlannedLayer): { rows: number; cols: number; a: Float32Array; b: Float32Array } {
  const { rank } = layer;
  const out = target.outFeatures;
  const inF = target.inFeatures;
  if (target.layout === 'outIn') return { rows: out, cols: inF, a: layer.up, b: layer.down };
  // Linear weights of MatMul nodes are stored transposed: delta^T = down^T @ up^T.
  return { rows: inF, cols: out, a: transpose(layer.down, rank, inF), b: transpose(layer.up, out, rank) };
}

export async function fuseLora(model: OnnxModel, plan: LoraPlan, scale: number, sharedKernel?: FuseKernel): Promise<PatchedModel> {
  const kernel = sharedKernel ?? new FuseKernel();
  try {
    return await fuseWith(kernel, model, plan, scale);
  } finally {
    if (!sharedKernel) await kernel.release();
  }
}

async function fuseWith(kernel: FuseKernel, model: OnnxModel, plan: LoraPlan, scale: number): Promise<PatchedModel> {
  const layout = layoutBlob(
    FUSED_WEIGHTS_LOCATION,
    plan.layers.map(({ target }) => ({ name: target.initializer, dataType: target.dataType, dims: target.dims })),
  );
  const data = Buffer.alloc(layout.size);
  for (const planned of plan.layers) {
    const { rows, cols, a, b } = deltaFactors(planned);
    const { target, layer } = planned;
    const weight = model.readInitializer(target.initializer);
    const fused = await kernel.fuse(target.dataType, weight, rows, cols, a, b, layer.rank, scale * layer.alphaScale);
    sliceOf(data, layout.refs.get(target.initializer)!).set(fused);
  }
  return {
    modelBytes: model.withExternalInitializers(layout.refs),
    fusedWeights: { location: FUSED_WEIGHTS_LOCATION, data },
    baseDir: model.baseDir,
    appliedLayers: plan.layers.length,
  };
}
