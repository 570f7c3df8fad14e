// Rewrites a model's eligible 3x3 convolutions into Winograd F(4x4, 3x3) form (./winograd-f43.ts),
// in memory, for the CPU: onnxruntime's CPU convolutions run direct/im2col kernels near the
// machine's peak, so only fewer multiplications make them faster. Measured on a 2-core AVX-512 CPU
// (single convs, onnxruntime 1.30, min of 4 alternating runs): 512 channels at 64² 0.48x the time,
// at 128² 0.53x, at 256² 0.53x, 512->256 at 256² 0.62x, 256 at 256² 0.74x, 256 at 512² 0.77x,
// 256->128 at 512² 0.89x, but 128 at 512² 1.1x (the transforms move more memory than the
// multiplications save), hence the input-channel threshold. Not for the UNet: its maps are small
// for its weights, so the per-run weight transform costs more than it saves (batch 1: 320 ch at 64²
// 1.05x, 640 at 32² 1.23x, 1280 at 16² 1.76x, 960->320 at 64² 0.88x).
// Results differ from the direct form by float rounding only (~1e-5 relative on SD's VAE scales).
//
// Each rewritten Conv(X, W, B) with X [N, C, H, W] becomes
//   V  = depthwise Conv(X, Bᵀ·B kernels, 6x6, stride 4, pad 1)   [N, C*36, H/4, W/4]
//   M  = MatMul(U, Transpose(V as [N, C, 36, T]))                [N, 36, K, T]     (U = G g Gᵀ)
//   O  = MatMul(Aᵀ·A, M as [N, 36, K*T])                         [N, 16, K*T]
//   Y  = DepthToSpace(Transpose(O as [N, 16, K, T]) as [N, K*16, H/4, W/4], 4) + B
// which needs H and W divisible by 4 (SD's VAE decoder: latent sides are multiples of 8, so every
// feature map is).
import { AttributeType, DataType } from '../proto/onnx-schema.ts';
import { int, ints, nodeWriter, plain3x3Conv, str, type EditableModel, type Node } from './editable-model.ts';
import { inputTransformKernel, outputTransformMatrix, TILE_IN, TILE_OUT, weightTransformMatrix } from './winograd-f43.ts';

export interface WinogradOptions {
  /** Rewrite only convolutions with at least this many input channels (default 512, see above). */
  minInputChannels?: number;
  /**
   * Leave a conv direct when its transformed input (36 values per 4x4 output tile and input channel)
   * would exceed this many bytes for a 64x64 input (a 512² SD image's latents): the Winograd form
   * holds that tensor and the product of the same size at once, so large maps cost peak memory.
   * Spatial sizes are followed from the first input through Resize scales. Default: no limit.
   */
  maxTransformBytes?: number;
}

/** Input side the memory limit is evaluated at: SD 1.5's 64x64 latents of a 512² image. */
const REFERENCE_SIDE = 64;

const P = TILE_IN * TILE_IN;
const Q = TILE_OUT * TILE_OUT;

/** Rewrites the model's eligible convolutions in place; returns the names of the Conv nodes rewritten. */
export function rewriteWinograd(m: EditableModel, options: WinogradOptions = {}): string[] {
  const minChannels = options.minInputChannels ?? 512;
  const graph = m.graph;
  const nodes: Node[] = [];

  // The [36, 9] weight transform times a 1.0 computed from the first input's shape at run time: a
  // constant input would let onnxruntime fold every U into a stored constant, 4x the weights.
  let one: string | undefined;
  const weightTransformAtRun = (): string => {
    if (one) return one;
    const op = nodeWriter(nodes, '/winograd_f43/runtime_one');
    const shape = op('Shape', [m.firstInput]);
    const batch = op('Gather', [shape, m.constant('winograd_f43.index.0', [], BigInt64Array.from([0n]), DataType.INT64)]);
    const flag = op('Cast', [op('Equal', [batch, batch])], [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }]);
    one = op('Mul', [m.f32('winograd_f43.weight_transform', [P, 9], weightTransformMatrix()), flag]);
    return one;
  };
  const scale = spatialScales(m);
  const rewritten: string[] = [];
  for (const node of graph.node) {
    const shape = plain3x3Conv(node, m.initializers);
    const side = REFERENCE_SIDE * (scale.get(node.input[0]!) ?? Infinity);
    if (!shape || shape.c < minChannels || 36 * shape.c * Math.ceil(side / TILE_OUT) ** 2 * 4 > (options.maxTransformBytes ?? Infinity)) {
      nodes.push(node);
      continue;
    }
    const { k, c } = shape;
    const [x, wName, bName] = node.input as [string, string, string | undefined];
    const op = nodeWriter(nodes, `${node.name}/Winograd`);

    // U = G g Gᵀ, computed at each run so the weights stay their size (stored, U is 36/9 = 4x the
    // conv's weight bytes): one GEMM, [36, 9] x g laid out [9, K*C] (kernel taps first). That
    // layout is a Transpose of the weights alone, which onnxruntime folds into a weight at load.
    const taps = op('Transpose', [op('Reshape', [wName, m.i64('winograd_f43.shape.taps', [-1, 9])])], [ints('perm', [1, 0])]);
    const u = op('Reshape', [op('MatMul', [weightTransformAtRun(), taps]), m.i64(`winograd_f43.shape.u.k${k}.c${c}`, [P, k, c])]);
    const v = op('Conv', [x, m.f32(`winograd_f43.input_transform.c${c}`, [c * P, 1, TILE_IN, TILE_IN], inputTransformKernel(c))], [
      ints('kernel_shape', [TILE_IN, TILE_IN]),
      ints('strides', [TILE_OUT, TILE_OUT]),
      ints('pads', [1, 1, 1, 1]),
      int('group', c),
    ]);
    const vByChannel = op('Reshape', [v, m.i64(`winograd_f43.shape.c${c}`, [0, c, P, -1])]);
    const vByPosition = op('Transpose', [vByChannel], [ints('perm', [0, 2, 1, 3])]);
    const product = op('MatMul', [u, vByPosition]);
    const productFlat = op('Reshape', [product, m.i64('winograd_f43.shape.positions', [0, P, -1])]);
    const o = op('MatMul', [m.f32('winograd_f43.output_transform', [Q, P], outputTransformMatrix()), productFlat]);
    const oByPixel = op('Reshape', [o, m.i64(`winograd_f43.shape.k${k}`, [0, Q, k, -1])]);
    const oByChannel = op('Transpose', [oByPixel], [ints('perm', [0, 2, 1, 3])]);
    const tiles = op('Slice', [op('Shape', [v]), m.i64('winograd_f43.axes.2', [2]), m.i64('winograd_f43.axes.4', [4])]);
    const blocksShape = op('Concat', [m.i64(`winograd_f43.shape.blocks.k${k}`, [0, k * Q]), tiles], [int('axis', 0)]);
    const blocks = op('Reshape', [oByChannel, blocksShape]);
    const output = node.output[0]!;
    const toSpace = [int('blocksize', TILE_OUT), str('mode', 'CRD')];
    if (bName) {
      const bias = m.f32(`${bName}.winograd_f43`, [1, k, 1, 1], m.floats(bName));
      op('Add', [op('DepthToSpace', [blocks], toSpace), bias], [], output);
    } else {
      op('DepthToSpace', [blocks], toSpace, output);
    }
    rewritten.push(node.name);
  }
  graph.node = nodes;
  // Biases now read as [1, K, 1, 1] copies go unless another node reads them.
  if (rewritten.length > 0) m.removeDeadNodes();
  return rewritten;
}

/**
 * How much larger than the first input each value's spatial side is, following Resize scales and
 * strided convs in node order (SD's VAE decoder: 1, 2, 4, 8). Unknown (a Resize by sizes, a
 * scale read from elsewhere) is Infinity, so a size limit leaves such convs direct.
 */
function spatialScales(m: EditableModel): Map<string, number> {
  const scale = new Map<string, number>([[m.firstInput, 1]]);
  for (const node of m.graph.node) {
    const known = node.input.filter((i) => scale.has(i)).map((i) => scale.get(i)!);
    if (known.length === 0) continue;
    let s = Math.max(...known);
    if (node.opType === 'Resize') {
      const scales = node.input[2] ? m.floatConstant(node.input[2]) : undefined;
      s = scales && scales.length === 4 ? s * scales[2]! : Infinity;
    } else if (node.opType === 'Conv') {
      const strides = node.attribute.find((a) => a.name === 'strides')?.ints;
      if (strides && Number(strides[0]) > 1) s /= Number(strides[0]);
    }
    for (const o of node.output) scale.set(o, s);
  }
  return scale;
}
