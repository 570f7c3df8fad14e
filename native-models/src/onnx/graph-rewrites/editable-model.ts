// A decoded ONNX model that the graph rewrites (./*.ts) edit in place before it is encoded again.
// toSource() keeps the weights where they were (the model file's external data, read from its
// folder, or the patched weights handed to the session in memory): the rewrites add only small
// constants, and the weights they need in a new layout are computed in the graph from the
// originals, which onnxruntime folds when the session loads. encode() can also pull every weight
// inline, for tests that open the rewritten bytes on their own.
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OnnxModel } from '../proto/onnx-model.ts';
import type { ModelSource } from '../session.ts';
import { AttributeType, DataLocation, DataType, int64ToNumber, ModelProto, type Int64 } from '../proto/onnx-schema.ts';

export interface Attr {
  name: string;
  type?: number;
  i?: Int64;
  ints?: Int64[];
  s?: Uint8Array;
  f?: number;
  t?: Tensor;
}
export interface Node {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain?: string;
  attribute: Attr[];
}
export interface Tensor {
  name: string;
  dims: Int64[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  externalData?: Array<{ key: string; value: string }>;
  dataLocation?: number;
}
interface Graph {
  node: Node[];
  initializer: Tensor[];
  input: Array<{ name: string; type?: { tensorType?: { elemType?: number; shape?: { dim: Array<{ dimValue?: number; dimParam?: string }> } } } }>;
  output: Array<{ name: string }>;
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;

export const ints = (name: string, values: number[]): Attr => ({ name, type: AttributeType.INTS, ints: values });
export const int = (name: string, value: number): Attr => ({ name, type: AttributeType.INT, i: value });
export const float = (name: string, value: number): Attr => ({ name, type: AttributeType.FLOAT, f: value });
export const str = (name: string, value: string): Attr => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });

export const attrInts = (node: Node, name: string): number[] | undefined => node.attribute.find((a) => a.name === name)?.ints?.map(int64ToNumber);
export const attrInt = (node: Node, name: string): number | undefined => {
  const i = node.attribute.find((x) => x.name === name)?.i;
  return i === undefined ? undefined : int64ToNumber(i);
};
export const attrString = (node: Node, name: string): string | undefined => {
  const a = node.attribute.find((x) => x.name === name);
  // protobufjs fills an absent bytes field with a plain empty array, so read it by the attribute's type.
  return a && a.type === AttributeType.STRING && a.s ? new TextDecoder().decode(Uint8Array.from(a.s)) : undefined;
};

export class EditableModel {
  readonly graph: Graph;
  readonly initializers: Map<string, Tensor>;
  private readonly model: { graph: Graph; opsetImport: Array<{ domain?: string; version: Int64 }> };
  private readonly indexed: OnnxModel;
  private readonly added: Tensor[] = [];
  private readonly dropped = new Set<string>();

  static async fromFile(path: string): Promise<EditableModel> {
    return new EditableModel(await readFile(path), dirname(path));
  }

  /** A model file (its external data read from its folder) or a model's bytes. */
  static async open(source: ModelSource): Promise<EditableModel> {
    return typeof source === 'string' ? EditableModel.fromFile(source) : new EditableModel(source, undefined);
  }

  /** @param baseDir the folder external data locations are relative to (the model's folder) */
  constructor(
    bytes: Uint8Array,
    private readonly baseDir: string | undefined,
  ) {
    this.indexed = new OnnxModel(bytes, baseDir);
    this.model = ModelProto.decode(bytes) as unknown as EditableModel['model'];
    this.graph = this.model.graph;
    this.initializers = new Map(this.graph.initializer.map((t) => [t.name, t]));
  }

  /** The first graph input that is not a weight (SD graphs: the latents). */
  get firstInput(): string {
    return this.firstInputInfo.name;
  }

  /** The element type (DataType) of that input: float16 marks a half-precision export. */
  get firstInputType(): number | undefined {
    return this.firstInputInfo.type?.tensorType?.elemType;
  }

  private get firstInputInfo(): Graph['input'][number] {
    return this.graph.input.find((i) => !this.initializers.has(i.name))!;
  }

  /** A float32 initializer's values, wherever they are stored. */
  floats(name: string): Float32Array {
    const raw = this.indexed.readInitializer(name);
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }

  /** A float32 constant's values, from an initializer or a Constant node (Resize scales), if it is one. */
  floatConstant(name: string): Float32Array | undefined {
    const t = this.initializers.get(name);
    if (t) return t.dataType === DataType.FLOAT ? this.floats(name) : undefined;
    const value = this.constantNodeValue(name);
    return value && this.tensorFloats(value);
  }

  /** An int64 constant's values (shapes, axes), from a small initializer or a Constant node. */
  int64Constant(name: string): number[] | undefined {
    const t = this.initializers.get(name) ?? this.constantNodeValue(name);
    if (!t || t.dataType !== DataType.INT64 || t.dataLocation === DataLocation.EXTERNAL) return undefined;
    if (t.rawData && t.rawData.length > 0) return Array.from(new BigInt64Array(Uint8Array.from(t.rawData).buffer), Number);
    const values = (t as { int64Data?: Int64[] }).int64Data;
    return values && values.length > 0 ? values.map(int64ToNumber) : undefined;
  }

  /** The values of an inline float32 tensor (a Constant node's or an attribute's). */
  tensorFloats(t: Tensor): Float32Array | undefined {
    if (t.dataType !== DataType.FLOAT) return undefined;
    if (t.rawData && t.rawData.length > 0) return new Float32Array(Uint8Array.from(t.rawData).buffer);
    return t.floatData && t.floatData.length > 0 ? Float32Array.from(t.floatData) : undefined;
  }

  private constantNodeValue(name: string): Tensor | undefined {
    const node = this.graph.node.find((n) => n.opType === 'Constant' && n.output[0] === name);
    return node?.attribute.find((a) => a.name === 'value')?.t;
  }

  /**
   * Drops nodes whose outputs nothing reads (left behind by a rewrite, e.g. shape arithmetic), then
   * the weights no node reads any more (onnxruntime warns of each).
   */
  removeDeadNodes(): void {
    // Live nodes are those the graph's outputs depend on: one walk back from the outputs (keeping
    // the text-free prefix of a UNet took 0.29 s when this re-scanned the graph per removed layer).
    const graphOutputs = new Set(this.graph.output.map((o) => o.name));
    const producers = this.producers();
    const live = new Set<Node>();
    const pending = [...graphOutputs];
    for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
      const node = producers.get(value);
      if (!node || live.has(node)) continue;
      live.add(node);
      pending.push(...node.input);
    }
    this.graph.node = this.graph.node.filter((n) => live.has(n));
    const read = new Set(this.graph.node.flatMap((n) => n.input));
    const declared = new Set(this.graph.input.map((i) => i.name));
    for (const name of this.initializers.keys()) if (!read.has(name) && !graphOutputs.has(name) && !declared.has(name)) this.dropped.add(name);
  }

  /** A value some node reads that no node, input or weight provides (a rewrite's mistake), if any. */
  danglingValue(): string | undefined {
    const available = new Set([...this.graph.input.map((i) => i.name), ...this.initializers.keys(), ...this.graph.node.flatMap((n) => n.output), '']);
    return this.graph.node.flatMap((n) => n.input).find((i) => !available.has(i));
  }

  /** Declares an operator domain (e.g. com.microsoft for contrib ops) the rewritten graph uses. */
  useDomain(domain: string, version: number): void {
    if (!this.model.opsetImport.some((o) => (o.domain ?? '') === domain)) this.model.opsetImport.push({ domain, version });
  }

  /** The nodes reading each value, in graph order (single-reader checks before a rewrite). */
  readers(): Map<string, Node[]> {
    const readers = new Map<string, Node[]>();
    for (const n of this.graph.node) {
      for (const i of n.input) {
        const list = readers.get(i);
        if (list) list.push(n);
        else readers.set(i, [n]);
      }
    }
    return readers;
  }

  /** The node writing each value. */
  producers(): Map<string, Node> {
    return new Map(this.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  }

  /** Adds a new initializer once (rewrites share constants by name); returns its name. */
  constant(name: string, dims: number[], data: Float32Array | BigInt64Array, dataType: number): string {
    if (this.initializers.has(name)) {
      if (this.added.some((t) => t.name === name)) return name;
      throw new Error(`the model already has an initializer named ${name}`);
    }
    const tensor = { name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    this.added.push(tensor);
    this.initializers.set(name, tensor);
    return name;
  }

  f32(name: string, dims: number[], data: Float32Array): string {
    return this.constant(name, dims, data, DataType.FLOAT);
  }

  i64(name: string, values: number[]): string {
    return this.constant(name, [values.length], BigInt64Array.from(values.map(BigInt)), DataType.INT64);
  }

  /**
   * The edited model as a session source: the weights it did not touch stay where they are, read
   * from the model file's folder (or handed to the session in memory, for a model given as bytes).
   */
  toSource(): { source: Uint8Array; externalDataDir?: string } {
    const source = this.encode({ keepExternal: true });
    return this.baseDir ? { source, externalDataDir: this.baseDir } : { source };
  }

  /**
   * The model with its edits, every weight inline; or with `keepExternal`, the weights stored outside
   * the model left there (the session then needs their folder, or the same external data in memory).
   */
  encode({ keepExternal = false } = {}): Uint8Array {
    const inline = (t: Tensor): Tensor =>
      t.dataLocation === DataLocation.EXTERNAL && !keepExternal ? { ...t, rawData: this.indexed.readInitializer(t.name), externalData: [], dataLocation: DataLocation.DEFAULT } : t;
    this.graph.initializer = [...this.graph.initializer, ...this.added].filter((t) => !this.dropped.has(t.name)).map(inline);
    this.added.length = 0;
    const size = this.graph.initializer.reduce((s, t) => s + (t.rawData?.length ?? 0), 0);
    if (size > PROTOBUF_LIMIT - (1 << 24)) {
      throw new Error(`the rewritten model holds ${size} bytes of weights, over protobuf's 2 GB limit`);
    }
    return ModelProto.encode(this.model as never).finish();
  }
}

/** Appends nodes named under `at` (e.g. "/decoder/up_blocks.0/upsamplers.0/conv/Conv/Winograd/MatMul_3"). */
export function nodeWriter(nodes: Node[], at: string): (opType: string, inputs: string[], attribute?: Attr[], output?: string) => string {
  let count = 0;
  return (opType, inputs, attribute = [], output) => {
    const out = output ?? `${at}/${opType}_${count}_output_0`;
    nodes.push({ name: `${at}/${opType}_${count++}`, opType, domain: '', input: inputs, output: [out], attribute });
    return out;
  };
}

/** K and C of a Conv that is a plain 3x3, stride 1, pad 1, ungrouped convolution with float32 weights. */
export function plain3x3Conv(node: Node, initializers: Map<string, Tensor>): { k: number; c: number } | undefined {
  if (node.opType !== 'Conv' || (node.domain ?? '') !== '' || node.input.length < 2) return undefined;
  const w = initializers.get(node.input[1]!);
  if (!w || w.dataType !== DataType.FLOAT) return undefined;
  const dims = w.dims.map(int64ToNumber);
  if (dims.length !== 4 || dims[2] !== 3 || dims[3] !== 3) return undefined;
  const bias = node.input[2];
  if (bias && initializers.get(bias)?.dataType !== DataType.FLOAT) return undefined;
  const allOnes = (v: number[] | undefined) => v === undefined || v.every((x) => x === 1);
  if (!allOnes(attrInts(node, 'strides')) || !allOnes(attrInts(node, 'dilations'))) return undefined;
  if ((attrInt(node, 'group') ?? 1) !== 1) return undefined;
  const autoPad = attrString(node, 'auto_pad');
  if (autoPad && autoPad !== 'NOTSET') return undefined;
  const pads = attrInts(node, 'pads');
  if (!pads || pads.length !== 4 || !pads.every((p) => p === 1)) return undefined;
  const kernel = attrInts(node, 'kernel_shape');
  if (kernel && (kernel[0] !== 3 || kernel[1] !== 3)) return undefined;
  return { k: dims[0]!, c: dims[1]! };
}
