// Rewrites a model's eligible 3x3 convolutions into Winograd F(4x4, 3x3) form (./winograd-f43.ts),
// in memory, for the CPU: onnxruntime's CPU convolutions run direct/im2col kernels near the
// machine's peak, so only fewer multiplications make them faster. Measured on a 2-core AVX-512 CPU
// (single convs, onnxruntime 1.30, min of 4 alternating runs): 512 channels at 64² 0.48x the time,
// at 128² 0.53x, at 256² 0.53x, 512->256 at 256² 0.62x, 256 at 256² 0.74x, 256 at 512² 0.77x,
// 256->128 at 512² 0.89x, but 128 at 512² 1.1x (the transforms move more memory than the
// multiplications save), hence the input-channel threshold.
// Results differ from the direct form by float rounding only (~1e-5 relative on SD's VAE scales).
//
// Each rewritten Conv(X, W, B) with X [N, C, H, W] becomes
//   V  = depthwise Conv(X, Bᵀ·B kernels, 6x6, stride 4, pad 1)   [N, C*36, H/4, W/4]
//   M  = MatMul(U, Transpose(V as [N, C, 36, T]))                [N, 36, K, T]     (U = G g Gᵀ)
//   O  = MatMul(Aᵀ·A, M as [N, 36, K*T])                         [N, 16, K*T]
//   Y  = DepthToSpace(Transpose(O as [N, 16, K, T]) as [N, K*16, H/4, W/4], 4) + B
// which needs H and W divisible by 4 (SD's VAE decoder: latent sides are multiples of 8, so every
// feature map is).
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OnnxModel } from '../proto/onnx-model.ts';
import { AttributeType, DataLocation, DataType, ModelProto } from '../proto/onnx-schema.ts';
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

export interface WinogradModel {
  /** The rewritten model, every weight inline (the caller opens a session from these bytes). */
  bytes: Uint8Array;
  /** Names of the Conv nodes rewritten. */
  rewritten: string[];
}

type Int = number | { toNumber(): number };
const num = (v: Int | undefined | null): number => (v === undefined || v === null ? 0 : typeof v === 'number' ? v : v.toNumber());

interface Attr {
  name: string;
  type?: number;
  i?: Int;
  ints?: Int[];
  s?: Uint8Array;
  f?: number;
}
interface Node {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: Attr[];
}
interface Tensor {
  name: string;
  dims: Int[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  externalData?: Array<{ key: string; value: string }>;
  dataLocation?: number;
}
interface Graph {
  node: Node[];
  initializer: Tensor[];
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;
const P = TILE_IN * TILE_IN;
const Q = TILE_OUT * TILE_OUT;

/** Reads a model (with its external data) and rewrites its eligible convolutions. */
export async function winogradModelFromFile(path: string, options: WinogradOptions = {}): Promise<WinogradModel> {
  return winogradModel(await readFile(path), dirname(path), options);
}

export function winogradModel(bytes: Uint8Array, baseDir: string | undefined, options: WinogradOptions = {}): WinogradModel {
  const minChannels = options.minInputChannels ?? 512;
  const indexed = new OnnxModel(bytes, baseDir);
  const model = ModelProto.decode(bytes) as unknown as { graph: Graph };
  const graph = model.graph;
  const byName = new Map(graph.initializer.map((t) => [t.name, t]));
  const uses = new Map<string, number>();
  for (const n of graph.node) for (const i of n.input) uses.set(i, (uses.get(i) ?? 0) + 1);

  const floats = (t: Tensor): Float32Array => {
    const raw = indexed.readInitializer(t.name);
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  };
  const added: Tensor[] = [];
  const addedNames = new Set<string>();
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array, dataType: number): string => {
    if (!addedNames.has(name)) {
      if (byName.has(name)) throw new Error(`Winograd rewrite: the model already has an initializer named ${name}`);
      addedNames.add(name);
      added.push({ name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
    return name;
  };
  const f32 = (name: string, dims: number[], data: Float32Array) => constant(name, dims, data, DataType.FLOAT);
  const i64 = (name: string, values: number[]) => constant(name, [values.length], BigInt64Array.from(values.map(BigInt)), DataType.INT64);

  // The [36, 9] weight transform times a 1.0 computed from the first input's shape at run time: a
  // constant input would let onnxruntime fold every U into a stored constant, 4x the weights.
  let one: string | undefined;
  const weightTransformAtRun = (): string => {
    if (one) return one;
    const input = (model.graph as unknown as { input: Array<{ name: string }> }).input[0]!.name;
    const at = '/winograd_f43/runtime_one';
    const shape = `${at}/Shape_output_0`;
    const batch = `${at}/Gather_output_0`;
    const same = `${at}/Equal_output_0`;
    const flag = `${at}/Cast_output_0`;
    one = `${at}/Mul_output_0`;
    const batchIndex = constant('winograd_f43.index.0', [], BigInt64Array.from([0n]), DataType.INT64);
    nodes.push(
      { name: `${at}/Shape`, opType: 'Shape', domain: '', input: [input], output: [shape], attribute: [] },
      { name: `${at}/Gather`, opType: 'Gather', domain: '', input: [shape, batchIndex], output: [batch], attribute: [] },
      { name: `${at}/Equal`, opType: 'Equal', domain: '', input: [batch, batch], output: [same], attribute: [] },
      { name: `${at}/Cast`, opType: 'Cast', domain: '', input: [same], output: [flag], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] },
      // The weight transform matrix times the runtime 1.0, shared by every conv.
      { name: `${at}/Mul`, opType: 'Mul', domain: '', input: [f32('winograd_f43.weight_transform', [P, 9], weightTransformMatrix()), flag], output: [one], attribute: [] },
    );
    return one;
  };
  const scale = spatialScales(graph, byName);
  const rewritten: string[] = [];
  const dropped = new Set<string>();
  const nodes: Node[] = [];
  for (const node of graph.node) {
    const shape = eligibleShape(node, byName, minChannels);
    const side = REFERENCE_SIDE * (scale.get(node.input[0]!) ?? Infinity);
    if (!shape || 36 * shape.c * Math.ceil(side / TILE_OUT) ** 2 * 4 > (options.maxTransformBytes ?? Infinity)) {
      nodes.push(node);
      continue;
    }
    const { k, c } = shape;
    const [x, wName, bName] = node.input as [string, string, string | undefined];
    const at = `${node.name}/Winograd`;
    let count = 0;
    const op = (opType: string, inputs: string[], attribute: Attr[] = [], output?: string): string => {
      const out = output ?? `${at}/${opType}_${count}_output_0`;
      nodes.push({ name: `${at}/${opType}_${count++}`, opType, domain: '', input: inputs, output: [out], attribute });
      return out;
    };
    const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
    const int = (name: string, value: number): Attr => ({ name, type: AttributeType.INT, i: value });

    // U = G g Gᵀ, computed at each run so the weights stay their size (stored, U is 36/9 = 4x the
    // conv's weight bytes): one GEMM, [36, 9] x g laid out [9, K*C] (kernel taps first).
    const taps = f32(`${wName}.taps_first`, [9, k * c], tapsFirst(floats(byName.get(wName)!), k * c));
    const u = op('Reshape', [op('MatMul', [weightTransformAtRun(), taps]), i64(`winograd_f43.shape.u.k${k}.c${c}`, [P, k, c])]);
    const v = op('Conv', [x, f32(`winograd_f43.input_transform.c${c}`, [c * P, 1, TILE_IN, TILE_IN], inputTransformKernel(c))], [
      ints('kernel_shape', [TILE_IN, TILE_IN]),
      ints('strides', [TILE_OUT, TILE_OUT]),
      ints('pads', [1, 1, 1, 1]),
      int('group', c),
    ]);
    const vByChannel = op('Reshape', [v, i64(`winograd_f43.shape.c${c}`, [0, c, P, -1])]);
    const vByPosition = op('Transpose', [vByChannel], [ints('perm', [0, 2, 1, 3])]);
    const m = op('MatMul', [u, vByPosition]);
    const mFlat = op('Reshape', [m, i64('winograd_f43.shape.positions', [0, P, -1])]);
    const o = op('MatMul', [f32('winograd_f43.output_transform', [Q, P], outputTransformMatrix()), mFlat]);
    const oByPixel = op('Reshape', [o, i64(`winograd_f43.shape.k${k}`, [0, Q, k, -1])]);
    const oByChannel = op('Transpose', [oByPixel], [ints('perm', [0, 2, 1, 3])]);
    const tiles = op('Slice', [op('Shape', [v]), i64('winograd_f43.axes.2', [2]), i64('winograd_f43.axes.4', [4])]);
    const blocksShape = op('Concat', [i64(`winograd_f43.shape.blocks.k${k}`, [0, k * Q]), tiles], [int('axis', 0)]);
    const blocks = op('Reshape', [oByChannel, blocksShape]);
    const output = node.output[0]!;
    if (bName) {
      const y = op('DepthToSpace', [blocks], [int('blocksize', TILE_OUT), { name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('CRD') }]);
      const bias = `${bName}.winograd_f43`;
      f32(bias, [1, k, 1, 1], floats(byName.get(bName)!));
      op('Add', [y, bias], [], output);
    } else {
      op('DepthToSpace', [blocks], [int('blocksize', TILE_OUT), { name: 'mode', type: AttributeType.STRING, s: new TextEncoder().encode('CRD') }], output);
    }
    for (const name of [wName, bName]) if (name && uses.get(name) === 1) dropped.add(name);
    rewritten.push(node.name);
  }

  graph.node = nodes;
  // Weights go inline: onnxruntime cannot mix in-memory and on-disk external data in one session.
  graph.initializer = [
    ...graph.initializer
      .filter((t) => !dropped.has(t.name))
      .map((t) => (t.dataLocation === DataLocation.EXTERNAL ? { ...t, rawData: indexed.readInitializer(t.name), externalData: [], dataLocation: DataLocation.DEFAULT } : t)),
    ...added,
  ];
  const size = graph.initializer.reduce((s, t) => s + (t.rawData?.length ?? 0), 0);
  if (size > PROTOBUF_LIMIT - (1 << 24)) {
    throw new Error(`Winograd rewrite: the rewritten model holds ${size} bytes of weights, over protobuf's 2 GB limit; use the direct convolutions for this model`);
  }
  return { bytes: ModelProto.encode(model as never).finish(), rewritten };
}

/**
 * How much larger than the first input each value's spatial side is, following Resize scales and
 * strided convs in node order (SD's VAE decoder: 1, 2, 4, 8). Unknown (a Resize by sizes, a
 * scale read from elsewhere) is Infinity, so a size limit leaves such convs direct.
 */
function spatialScales(graph: Graph & { input?: Array<{ name: string }> }, initializers: Map<string, Tensor>): Map<string, number> {
  const scale = new Map<string, number>();
  const input = graph.input?.find((i) => !initializers.has(i.name));
  if (input) scale.set(input.name, 1);
  const constants = new Map<string, Float32Array>();
  const floatsOf = (t: { rawData?: Uint8Array; floatData?: number[]; dataType: number } | undefined): Float32Array | undefined => {
    if (!t || t.dataType !== DataType.FLOAT) return undefined;
    if (t.rawData && t.rawData.length > 0) return new Float32Array(Uint8Array.from(t.rawData).buffer);
    return t.floatData && t.floatData.length > 0 ? Float32Array.from(t.floatData) : undefined;
  };
  for (const node of graph.node) {
    if (node.opType === 'Constant') {
      const value = floatsOf((node.attribute.find((a) => a.name === 'value') as { t?: Tensor & { floatData?: number[] } } | undefined)?.t);
      if (value) constants.set(node.output[0]!, value);
    }
    const known = node.input.filter((i) => scale.has(i)).map((i) => scale.get(i)!);
    if (known.length === 0) continue;
    let s = Math.max(...known);
    if (node.opType === 'Resize') {
      const scales = constants.get(node.input[2] ?? '') ?? floatsOf(initializers.get(node.input[2] ?? ''));
      s = scales && scales.length === 4 ? s * scales[2]! : Infinity;
    } else if (node.opType === 'Conv') {
      const strides = node.attribute.find((a) => a.name === 'strides')?.ints?.map(num);
      if (strides && strides[0]! > 1) s /= strides[0]!;
    }
    for (const o of node.output) scale.set(o, s);
  }
  return scale;
}

/** [K*C, 3, 3] -> [9, K*C]: tap-major, so the weight transform is one plain GEMM with no transpose. */
function tapsFirst(w: Float32Array, kernels: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let kc = 0; kc < kernels; kc++) for (let t = 0; t < 9; t++) out[t * kernels + kc] = w[kc * 9 + t]!;
  return out;
}

/** K and C of a Conv that is a plain 3x3, stride 1, pad 1 convolution with float32 initializer weights. */
function eligibleShape(node: Node, initializers: Map<string, Tensor>, minChannels: number): { k: number; c: number } | undefined {
  if (node.opType !== 'Conv' || (node.domain ?? '') !== '' || node.input.length < 2) return undefined;
  const w = initializers.get(node.input[1]!);
  if (!w || w.dataType !== DataType.FLOAT) return undefined;
  const dims = w.dims.map(num);
  if (dims.length !== 4 || dims[2] !== 3 || dims[3] !== 3 || dims[1]! < minChannels) return undefined;
  const bias = node.input[2];
  if (bias && initializers.get(bias)?.dataType !== DataType.FLOAT) return undefined;
  const attr = new Map(node.attribute.map((a) => [a.name, a]));
  const list = (name: string) => attr.get(name)?.ints?.map(num);
  const allOnes = (v: number[] | undefined) => v === undefined || v.every((x) => x === 1);
  if (!allOnes(list('strides')) || !allOnes(list('dilations'))) return undefined;
  if (attr.has('group') && num(attr.get('group')!.i) !== 1) return undefined;
  const autoPad = attr.get('auto_pad')?.s;
  if (autoPad && new TextDecoder().decode(autoPad) !== 'NOTSET') return undefined;
  const pads = list('pads');
  if (!pads || pads.length !== 4 || !pads.every((p) => p === 1)) return undefined;
  const kernel = list('kernel_shape');
  if (kernel && (kernel[0] !== 3 || kernel[1] !== 3)) return undefined;
  return { k: dims[0]!, c: dims[1]! };
}
