// Runs a float32 graph's arithmetic in float16, for GPU providers: half the weight memory and
// bandwidth, and the tensor cores / packed half math GPUs have (diffusers runs SD 1.5 in float16 on
// GPUs as a matter of course). The graph keeps its float32 inputs and outputs, so callers and feed
// checks do not change; the weights stay float32 in the model's files and are cast in the graph, a
// Cast of a constant that onnxruntime folds into a float16 weight when the session loads.
//
// What turns half: every node that reads, directly or not, a float32 graph input (the latents, the
// text embeddings). What stays float32: everything computed from other inputs and constants alone,
// so the UNet's timestep embedding (sin/cos of t·freq, where float16's 0.5 spacing near 999 would
// shift the phases) and its MLP stay exact; they reach the half work through a run-time Cast.
// Resize's roi and scales stay float32 as the operator requires. Normalisations turn half too: GPU
// kernels sum their statistics in float32 (WebGPU's InstanceNormalization over 163,840 float16
// values: within 5.5e-3 of float32, the inputs' own float16 rounding).
import { AttributeType, DataType } from '../proto/onnx-schema.ts';
import type { ExecutionProvider } from '../providers.ts';
import { floatsToHalf } from '../../util/float16.ts';
import { attrInt, type Attr, type EditableModel, type Node, type Tensor } from './editable-model.ts';

export type Precision = 'float32' | 'float16';

/**
 * 'auto': float16 on the GPU providers that run it natively (CUDA, DirectML, WebGPU); float32 on the
 * CPU (its float16 kernels are few and no faster) and CoreML (which picks its own precision).
 */
export function precisionFor(choice: 'auto' | Precision, provider: ExecutionProvider): Precision {
  if (choice !== 'auto') return choice;
  return provider === 'cuda' || provider === 'dml' || provider === 'webgpu' ? 'float16' : 'float32';
}

/** Inputs that keep their own type whatever the data's (roi and scales of Resize, Upsample's scales). */
const FIXED_TYPE_INPUTS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };
/** Outputs whose type is fixed by the operator rather than following its first input. */
const BOOL_OUTPUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OUTPUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);
const isFloat = (type: number | undefined) => type === DataType.FLOAT || type === DataType.FLOAT16;

/**
 * Rewrites the graph in place; returns the names of the nodes now computing in float16 (none for a
 * graph without float32 inputs, e.g. a text encoder, or one exported in float16 already).
 */
export function computeInHalf(m: EditableModel): string[] {
  const { types, halfNodes } = halfNodesOf(m);
  if (halfNodes.size === 0) return [];
  /** float16 values: the half nodes' float outputs, the copies they read, zeros made in float16. */
  const half = new Set<string>();
  const copies = new Map<string, string>();
  const nodes: Node[] = [];

  /** One float16 copy per float32 value the half nodes read (a weight's is folded at load). */
  const halfCopy = (value: string, reader: Node): string => {
    let copy = copies.get(value);
    if (!copy) {
      copy = `${value}.float16`;
      nodes.push({ name: `${reader.name}/ToFloat16_${copies.size}`, opType: 'Cast', domain: '', input: [value], output: [copy], attribute: [castTo(DataType.FLOAT16)] });
      copies.set(value, copy);
      half.add(copy);
    }
    return copy;
  };

  for (const node of m.graph.node) {
    if (node.opType === 'ConstantOfShape' && halfNodes.has(node)) {
      node.attribute = node.attribute.map((a) => (a.name === 'value' && a.t ? { ...a, t: halfTensor(m, a.t) } : a));
      half.add(node.output[0]!);
    } else if (halfNodes.has(node)) {
      const fixed = FIXED_TYPE_INPUTS[node.opType] ?? [];
      node.input = node.input.map((value, slot) => (!value || fixed.includes(slot) || half.has(value) || types.get(value) !== DataType.FLOAT ? value : halfCopy(value, node)));
      if (node.opType === 'Cast' && attrInt(node, 'to') === DataType.FLOAT) node.attribute = [castTo(DataType.FLOAT16)];
      for (const o of node.output) if (isFloat(types.get(o))) half.add(o);
    }
    nodes.push(node);
  }

  // The graph's outputs stay float32: the half value gets its own name and a Cast back takes the original.
  for (const output of m.graph.output) {
    if (!half.has(output.name)) continue;
    const inner = `${output.name}.float16`;
    for (const n of nodes) n.output = n.output.map((o) => (o === output.name ? inner : o));
    for (const n of nodes) n.input = n.input.map((i) => (i === output.name ? inner : i));
    nodes.push({ name: `${output.name}/ToFloat32`, opType: 'Cast', domain: '', input: [inner], output: [output.name], attribute: [castTo(DataType.FLOAT)] });
  }
  m.graph.node = nodes;
  return [...halfNodes].map((n) => n.name);
}

/**
 * The nodes reading, directly or not, a float32 graph input, and the element type of every value
 * as the graph stands (float32).
 */
function halfNodesOf(m: EditableModel): { types: Map<string, number>; halfNodes: Set<Node> } {
  const types = new Map<string, number>();
  for (const i of m.graph.input) if (i.type?.tensorType?.elemType) types.set(i.name, i.type.tensorType.elemType);
  for (const [name, t] of m.initializers) types.set(name, t.dataType);
  const data = new Set(m.graph.input.filter((i) => !m.initializers.has(i.name) && types.get(i.name) === DataType.FLOAT).map((i) => i.name));
  const halfNodes = new Set<Node>();
  for (const node of m.graph.node) {
    setOutputTypes(node, types);
    // Floats made at run time from a shape alone (torch's baddbmm zeros in attention, as large as the
    // scores) go half with the data rather than being cast on every run.
    if (node.opType === 'ConstantOfShape' && data.size > 0 && types.get(node.output[0]!) === DataType.FLOAT) {
      halfNodes.add(node);
      data.add(node.output[0]!);
      continue;
    }
    if (!node.input.some((i) => data.has(i))) continue;
    if ((node.domain ?? '') !== '' && node.domain !== 'com.microsoft') throw new Error(`${node.name}: operator ${node.domain}.${node.opType} has no known float16 form`);
    for (const value of node.input) {
      if (value && !types.has(value)) throw new Error(`${node.name}: cannot tell the element type of its input ${value}`);
    }
    halfNodes.add(node);
    for (const o of node.output) if (isFloat(types.get(o))) data.add(o);
  }
  return { types, halfNodes };
}

/** A float32 Constant's value (a ConstantOfShape's fill) in float16; absent means 0. */
function halfTensor(m: EditableModel, t: Tensor): Tensor {
  const values = m.tensorFloats(t) ?? new Float32Array(1);
  return { ...t, dataType: DataType.FLOAT16, floatData: [], rawData: new Uint8Array(floatsToHalf(values).buffer) };
}

const castTo = (to: number): Attr => ({ name: 'to', type: AttributeType.INT, i: to });

/**
 * Records the element type of a node's outputs: most operators' follow their first input (with
 * float32 read as float16 for a half node, whose float inputs are all float16 by now); the rest are
 * fixed by the operator or an attribute.
 */
function setOutputTypes(node: Node, types: Map<string, number>): void {
  const [first] = node.output;
  if (!first) return;
  let type: number | undefined;
  if (node.opType === 'Cast') type = attrInt(node, 'to');
  else if (node.opType === 'Constant' || node.opType === 'ConstantOfShape') type = node.attribute.find((a) => a.name === 'value')?.t?.dataType ?? DataType.FLOAT;
  else if (BOOL_OUTPUT.has(node.opType)) type = DataType.BOOL;
  else if (INT64_OUTPUT.has(node.opType)) type = DataType.INT64;
  else if (node.opType === 'Where') type = types.get(node.input[1]!);
  else type = types.get(node.input[0]!);
  if (type === undefined) return;
  node.output.forEach((o, index) => {
    // TopK's second output is its indices.
    if (o) types.set(o, node.opType === 'TopK' && index === 1 ? DataType.INT64 : type);
  });
}
