// Fuses a planned LoRA into a model without writing anything to disk: the patched weights go into
// one in-memory external-data blob and the model bytes are re-spliced to point at it. A 3.4 GB
// fp32 SD 1.5 UNet thus becomes a ~1 MB graph plus a blob onnxruntime copies into the session
// (after which the blob can be dropped); the original files are only read.
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
  const fusedNames = new Set(plan.layers.map((p) => p.target.initializer));
  // onnxruntime 1.30 cannot mix in-memory and on-disk external files in one session, so the few
  // untouched weights stored outside the graph (norms, biases, conv_in/out, time embedding: ~1% of
  // an SD 1.5 UNet) are copied into the same in-memory blob as the fused ones.
  const carried = [...model.initializerNames()]
    .map((name) => model.initializer(name)!)
    .filter((info) => info.external && !fusedNames.has(info.name));
  const layout = layoutBlob(FUSED_WEIGHTS_LOCATION, [
    ...plan.layers.map(({ target }) => ({ name: target.initializer, dataType: target.dataType, dims: target.dims })),
    ...carried,
  ]);
  const data = Buffer.alloc(layout.size);
  for (const planned of plan.layers) {
    const { rows, cols, a, b } = deltaFactors(planned);
    const { target, layer } = planned;
    const weight = model.readInitializer(target.initializer);
    const fused = await kernel.fuse(target.dataType, weight, rows, cols, a, b, layer.rank, scale * layer.alphaScale);
    sliceOf(data, layout.refs.get(target.initializer)!).set(fused);
  }
  for (const info of carried) sliceOf(data, layout.refs.get(info.name)!).set(model.readInitializer(info.name));
  return {
    modelBytes: model.withExternalInitializers(layout.refs),
    fusedWeights: { location: FUSED_WEIGHTS_LOCATION, data },
    appliedLayers: plan.layers.length,
  };
}
