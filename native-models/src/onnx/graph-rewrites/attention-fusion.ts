// Fuses the attention of torch-exported SD UNets into onnxruntime's MultiHeadAttention
// (com.microsoft; CPU, CUDA and WebGPU kernels): one kernel per attention instead of head split,
// MatMul, scale, Softmax, MatMul and head merge, each a pass over [heads, N, N] or [B, N, C] memory.
// The maths is the same (q kᵀ · scale, softmax, · v); results differ by float rounding (~1e-6).
// Measured on the 2-core CPU (full-size SD 1.5 UNet, 64x64 latents, batch 1, min of 3 alternating
// runs): 3.33 s -> 3.10 s per call.
//
// Two exported forms are recognised, per input and alike for q, k and v:
//   batched heads (diffusers' AttnProcessor, torch's export of baddbmm/bmm):
//     x [B, N, C] -> Reshape [B, N, h, d] -> Transpose 0213 -> Reshape [B*h, N, d] (k: then Transpose 021)
//     scores = Softmax([Cast] (MatMul(q, k) * scale [+ 0 * empty])) [Cast];  out = MatMul(scores, v)
//     -> Reshape [B, h, N, d] -> Transpose 0213 -> Reshape [B, N, C]
//   4-D heads (this repo's plain graph builder):
//     x -> Reshape [0, -1, h, d] -> Transpose 0213 (k: 0231);  same scores;  -> Transpose 0213 -> Reshape
//   4-D heads through torch's scaled_dot_product_attention export (diffusers' AttnProcessor2_0,
//   torch >= 2.1): x -> Reshape -> Transpose 0213 (k: then Transpose 0132), each side times
//   Sqrt(scale), scores = Softmax(MatMul(q √s, kᵀ √s)); scale a constant or torch's default
//   1/sqrt(d) computed from the query's shape (then d must be a constant of the head split).
// Anything else is left as it is: a pattern that is not matched exactly costs speed, never the picture.
import { DataType } from '../proto/onnx-schema.ts';
import { attrInt, attrInts, float, int, type EditableModel, type Node } from './editable-model.ts';

const MS_DOMAIN = 'com.microsoft';

/** Fuses every recognised attention in place; returns the names of the Softmax nodes fused. */
export function fuseAttention(m: EditableModel): string[] {
  // Half-precision exports keep their attention: onnxruntime's CPU MultiHeadAttention is float32.
  if (m.firstInputType !== DataType.FLOAT) return [];
  const producers = m.producers();
  const consumers = m.readers();
  const outputs = new Set(m.graph.output.map((o) => o.name));
  /**
   * The node reading `value`, when it is the only reader and the value is not a graph output.
   * Shape nodes do not count: the export takes sizes from q, k and the attention output for its
   * reshapes and baddbmm's empty input, and those go dead with the chain (checked at the end).
   */
  const soleReader = (value: string): Node | undefined => {
    const readers = (consumers.get(value) ?? []).filter((r) => r.opType !== 'Shape');
    return readers.length === 1 && !outputs.has(value) ? readers[0] : undefined;
  };
  const producer = (value: string | undefined): Node | undefined => (value ? producers.get(value) : undefined);
  const perm = (node: Node | undefined, ...expected: number[]): boolean => node?.opType === 'Transpose' && sameInts(attrInts(node, 'perm'), expected);

  /** Follows x back through a head split; the projection it starts from, the heads, and its nodes. */
  const headSplit = (x: string, key: boolean): { source: string; heads: number; headDim?: number; batched: boolean; nodes: Node[] } | undefined => {
    const nodes: Node[] = [];
    let node = producer(x);
    if (key && perm(node, 0, 1, 3, 2)) {
      // torch's SDPA export transposes the 4-D key itself: the split before it is a query's.
      nodes.push(node!);
      node = producer(node!.input[0]);
      key = false;
    }
    if (key && perm(node, 0, 2, 1)) {
      nodes.push(node!);
      node = producer(node!.input[0]);
      if (node?.opType !== 'Reshape') return undefined;
    }
    const batched = node?.opType === 'Reshape';
    if (batched) {
      if (key && nodes.length === 0) return undefined; // batched keys are transposed after the merge
      nodes.push(node!);
      node = producer(node!.input[0]);
    }
    if (!(key && !batched ? perm(node, 0, 2, 3, 1) : perm(node, 0, 2, 1, 3))) return undefined;
    nodes.push(node!);
    const split = producer(node!.input[0]);
    if (split?.opType !== 'Reshape') return undefined;
    nodes.push(split);
    const shape = splitShape(m, producers, split.input[1]!);
    if (!shape) return undefined;
    // Every value inside the chain is read by the next node only, so the chain can go.
    if (!nodes.every((n) => soleReader(n.output[0]!))) return undefined;
    return { source: split.input[0]!, ...shape, batched, nodes };
  };

  const fused: string[] = [];
  const removed = new Set<Node>();
  const placed = new Map<Node, Node>();
  for (const softmax of m.graph.node) {
    if (softmax.opType !== 'Softmax' || (attrInt(softmax, 'axis') ?? -1) !== -1) continue;
    const nodes: Node[] = [softmax];
    // Probabilities -> (Cast to float) -> MatMul with v.
    let probs = softmax.output[0]!;
    let pv = soleReader(probs);
    if (pv?.opType === 'Cast' && attrInt(pv, 'to') === DataType.FLOAT) {
      nodes.push(pv);
      probs = pv.output[0]!;
      pv = soleReader(probs);
    }
    if (pv?.opType !== 'MatMul' || pv.input[0] !== probs) continue;
    nodes.push(pv);
    // Scores: MatMul(q, k) * scale, plus baddbmm's 0 * empty input when exported from it, and the
    // upcast to float before the softmax (a no-op in a float32 graph).
    let scaled = producer(softmax.input[0]);
    if (scaled?.opType === 'Cast' && attrInt(scaled, 'to') === DataType.FLOAT && soleReader(scaled.output[0]!)) {
      nodes.push(scaled);
      scaled = producer(scaled.input[0]);
    }
    if (scaled?.opType === 'Add' && soleReader(scaled.output[0]!)) {
      const zero = scaled.input.findIndex((i) => isZeroTerm(m, producers, i));
      if (zero < 0) continue;
      nodes.push(scaled, producer(scaled.input[zero])!);
      scaled = producer(scaled.input[1 - zero]);
    }
    let scale: number | 'default' | undefined;
    let qk: Node | undefined;
    let [qIn, kIn] = ['', ''];
    if (scaled?.opType === 'Mul' && soleReader(scaled.output[0]!)) {
      // Scores scaled after the product.
      const scaleSide = scaled.input.findIndex((i) => scalarConstant(m, i) !== undefined);
      qk = producer(scaled.input[1 - scaleSide] ?? '');
      if (scaleSide < 0 || qk?.opType !== 'MatMul' || !soleReader(qk.output[0]!)) continue;
      scale = scalarConstant(m, scaled.input[scaleSide]!)!;
      nodes.push(scaled, qk);
      [qIn, kIn] = qk.input as [string, string];
    } else if (scaled?.opType === 'MatMul' && soleReader(scaled.output[0]!)) {
      // torch's SDPA: q and kᵀ each times Sqrt(scale) before the product.
      qk = scaled;
      const sides = qk.input.map((i) => rootScaled(m, producers, i));
      if (!sides[0] || !sides[1] || sides[0].scale !== sides[1].scale) continue;
      if (!soleReader(sides[0].mul.output[0]!) || !soleReader(sides[1].mul.output[0]!)) continue;
      scale = sides[0].scale;
      nodes.push(qk, sides[0].mul, sides[1].mul);
      [qIn, kIn] = [sides[0].value, sides[1].value];
    } else {
      continue;
    }
    const q = headSplit(qIn, false);
    const k = headSplit(kIn, true);
    const v = headSplit(pv.input[1]!, false);
    if (!q || !k || !v || q.heads !== k.heads || q.heads !== v.heads) continue;
    if (q.batched !== k.batched || q.batched !== v.batched) continue;
    if (scale === 'default') {
      // torch's default, 1/sqrt(d), from the query's last dimension: d must be known here.
      if (!q.headDim) continue;
      scale = 1 / Math.sqrt(q.headDim);
    }
    if (scale === undefined) continue;
    // The head merge after MatMul(probs, v).
    const merge: Node[] = [];
    let node = soleReader(pv.output[0]!);
    if (q.batched) {
      if (node?.opType !== 'Reshape') continue;
      merge.push(node);
      node = soleReader(node.output[0]!);
    }
    if (!perm(node, 0, 2, 1, 3)) continue;
    merge.push(node!);
    const last = soleReader(node!.output[0]!);
    if (last?.opType !== 'Reshape') continue;
    merge.push(last);
    if (!merge.slice(0, -1).every((n) => soleReader(n.output[0]!))) continue;

    const attention: Node = {
      name: `${softmax.name.replace(/\/Softmax(_\d+)?$/, '')}/MultiHeadAttention`,
      opType: 'MultiHeadAttention',
      domain: MS_DOMAIN,
      input: [q.source, k.source, v.source],
      output: [last.output[0]!],
      attribute: [
        int('num_heads', q.heads),
        float('scale', scale),
      ],
    };
    for (const n of [...nodes, ...q.nodes, ...k.nodes, ...v.nodes, ...merge]) removed.add(n);
    // At the merge's place: the projections it reads come before it, its readers after.
    placed.set(last, attention);
    fused.push(softmax.name);
  }
  if (fused.length === 0) return fused;
  m.graph.node = m.graph.node.flatMap((n) => (placed.has(n) ? [placed.get(n)!] : removed.has(n) ? [] : [n]));
  m.removeDeadNodes();
  const dangling = m.danglingValue();
  if (dangling !== undefined) throw new Error(`attention fusion left ${dangling} without a producer`);
  m.useDomain(MS_DOMAIN, 1);
  return fused;
}

/**
 * Heads (and the head size, when constant) of a Reshape to [B, N, h, d]: from a constant shape, or
 * from a Concat of dims with h constant.
 */
function splitShape(m: EditableModel, producers: Map<string, Node>, shape: string): { heads: number; headDim?: number } | undefined {
  const withDim = (heads: number | undefined, d: number | undefined) => (heads && heads > 0 ? { heads, ...(d && d > 0 ? { headDim: d } : {}) } : undefined);
  const constant = m.int64Constant(shape);
  if (constant) return constant.length === 4 && (constant[3] === -1 || constant[3]! > 0) ? withDim(constant[2], constant[3]) : undefined;
  const concat = producers.get(shape);
  if (concat?.opType !== 'Concat' || concat.input.length !== 4) return undefined;
  const [heads, d] = [m.int64Constant(concat.input[2]!), m.int64Constant(concat.input[3]!)];
  return heads?.length === 1 ? withDim(heads[0], d?.length === 1 ? d[0] : undefined) : undefined;
}

/**
 * x · Sqrt(s) as torch's SDPA export writes it for q and kᵀ: the other factor, the Mul, and s (a
 * constant, or 'default' for torch's 1/sqrt(last dim of the query) computed from its shape).
 */
function rootScaled(m: EditableModel, producers: Map<string, Node>, name: string): { value: string; mul: Node; scale: number | 'default' } | undefined {
  const mul = producers.get(name);
  if (mul?.opType !== 'Mul') return undefined;
  const side = mul.input.findIndex((i) => producers.get(i)?.opType === 'Sqrt');
  if (side < 0) return undefined;
  const root = producers.get(mul.input[side]!)!;
  const constant = scalarConstant(m, root.input[0]!);
  if (constant !== undefined) return { value: mul.input[1 - side]!, mul, scale: constant };
  return isDefaultScale(m, producers, root.input[0]!) ? { value: mul.input[1 - side]!, mul, scale: 'default' } : undefined;
}

/** torch's default SDPA scale: [Cast] Div(1, Sqrt([Cast] Slice(Shape(q), [-1], ...))). */
function isDefaultScale(m: EditableModel, producers: Map<string, Node>, name: string): boolean {
  const skipCast = (n: Node | undefined) => (n?.opType === 'Cast' ? producers.get(n.input[0]!) : n);
  const div = skipCast(producers.get(name));
  if (div?.opType !== 'Div' || scalarConstant(m, div.input[0]!) !== 1) return false;
  const sqrt = producers.get(div.input[1]!);
  if (sqrt?.opType !== 'Sqrt') return false;
  const slice = skipCast(producers.get(sqrt.input[0]!));
  if (slice?.opType !== 'Slice' || producers.get(slice.input[0]!)?.opType !== 'Shape') return false;
  const starts = m.int64Constant(slice.input[1]!);
  return starts?.length === 1 && starts[0] === -1;
}

/** A scalar float constant (an initializer or Constant node of one value). */
function scalarConstant(m: EditableModel, name: string): number | undefined {
  const values = m.floatConstant(name);
  return values && values.length === 1 ? values[0] : undefined;
}

/** baddbmm's beta term with beta = 0: Mul(ConstantOfShape zeros, 0). */
function isZeroTerm(m: EditableModel, producers: Map<string, Node>, name: string): boolean {
  const mul = producers.get(name);
  if (mul?.opType !== 'Mul') return false;
  const zeroSide = mul.input.findIndex((i) => scalarConstant(m, i) === 0);
  if (zeroSide < 0) return false;
  const filled = producers.get(mul.input[1 - zeroSide]!);
  if (filled?.opType !== 'ConstantOfShape') return false;
  const value = filled.attribute.find((a) => a.name === 'value')?.t;
  const fill = value ? m.tensorFloats(value) : new Float32Array([0]);
  return fill !== undefined && fill.length === 1 && fill[0] === 0;
}

function sameInts(a: number[] | undefined, b: number[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
