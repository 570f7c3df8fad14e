// Finds the weights a LoRA can patch in an exported ONNX graph. Torch exports keep module scopes
// in node names (`/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`), so the
// module path is the node name minus its last segment. The `onnx::MatMul_9096`-style initializer
// names are export artefacts and are never used for matching.
import type { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { int64ToNumber, type NodeMessage } from '../onnx/proto/onnx-schema.ts';

/**
 * How the weight is laid out: `outIn` = [out, in(, kH, kW)] (torch layout: Conv, Gemm transB=1),
 * `inOut` = [in, out] (the transposed Linear weight of a MatMul or a Gemm with transB=0).
 */
export type WeightLayout = 'outIn' | 'inOut';

export interface GraphTarget {
  flatName: string;
  nodeName: string;
  opType: 'MatMul' | 'Gemm' | 'Conv';
  initializer: string;
  dims: number[];
  dataType: number;
  layout: WeightLayout;
  outFeatures: number;
  /** in_channels * kH * kW for convolutions. */
  inFeatures: number;
  kernel: number[];
}

const FUSIBLE = new Set(['MatMul', 'Gemm', 'Conv']);
function attributeInt(node: NodeMessage, name: string): number | undefined {
  const i = node.attribute.find((a) => a.name === name)?.i;
  return i === undefined ? undefined : int64ToNumber(i);
}

/** `/a.0/b/c/MatMul` -> `a_0_b_c`; undefined for names without a module scope. */
export function flatNameOfNode(nodeName: string): string | undefined {
  const parts = nodeName.replace(/^\//, '').split('/');
  if (parts.length < 2) return undefined;
  return parts.slice(0, -1).join('_').replace(/\./g, '_');
}

export function findGraphTargets(model: OnnxModel): Map<string, GraphTarget> {
  const uses = new Map<string, number>();
  for (const node of model.nodes) for (const input of node.input) uses.set(input, (uses.get(input) ?? 0) + 1);
  const targets = new Map<string, GraphTarget>();
  for (const node of model.nodes) {
    if (!FUSIBLE.has(node.opType) || (node.domain !== '' && node.domain !== 'ai.onnx')) continue;
    const flatName = flatNameOfNode(node.name);
    const weight = node.input[1];
    const info = weight === undefined ? undefined : model.initializer(weight);
    // A weight shared by two nodes cannot be patched for one of them alone.
    if (!flatName || !info || uses.get(weight!) !== 1 || targets.has(flatName)) continue;
    const target = describe(node, flatName, info.name, info.dims, info.dataType);
    if (target) targets.set(flatName, target);
  }
  return targets;
}

function describe(node: NodeMessage, flatName: string, initializer: string, dims: number[], dataType: number): GraphTarget | undefined {
  const base = { flatName, nodeName: node.name, initializer, dims, dataType };
  if (node.opType === 'Conv') {
    if ((attributeInt(node, 'group') ?? 1) !== 1 || dims.length < 3) return undefined;
    const [out, inC, ...kernel] = dims as [number, number, ...number[]];
    return { ...base, opType: 'Conv', layout: 'outIn', outFeatures: out, inFeatures: kernel.reduce((a, b) => a * b, inC), kernel };
  }
  if (dims.length !== 2) return undefined;
  const transposed = node.opType === 'MatMul' || (attributeInt(node, 'transB') ?? 0) === 0;
  if (node.opType === 'Gemm' && (attributeInt(node, 'transA') ?? 0) !== 0) return undefined;
  const [d0, d1] = dims as [number, number];
  return {
    ...base,
    opType: node.opType as 'MatMul' | 'Gemm',
    layout: transposed ? 'inOut' : 'outIn',
    outFeatures: transposed ? d1 : d0,
    inFeatures: transposed ? d0 : d1,
    kernel: [],
  };
}
