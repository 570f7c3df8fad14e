// A small typed DSL for writing ONNX graphs: values are strings (ONNX value names), nodes are added
// in topological order, and node names follow torch's export scopes ("/down_blocks.0/resnets.0/conv1/Conv")
// so that code which finds a layer by its module path (the LoRA fusion) treats a built graph exactly
// like an exported one.
import type { ElemType } from '../onnx/proto/onnx-schema.ts';

/** Where an initializer's bytes come from. */
export type TensorData =
  /** Bytes already in memory (little-endian, C order). */
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A byte range inside a file: written as ONNX external data that points at it (no copy). */
  | { kind: 'file'; path: string; offset: number; length: number }
  /** Computed when the model is written, so a full-size model never sits in memory at once. */
  | { kind: 'lazy'; byteLength: number; produce: () => Uint8Array };

export interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  data: TensorData;
}

export type Dim = number | string;
export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: Dim[];
}

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: Initializer };

export interface GraphNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
}

export interface OnnxGraph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: GraphNode[];
  initializers: Initializer[];
  opsets: Record<string, number>;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly opsets: Record<string, number> = { '': 17 };
  private readonly scopeStack: string[] = [];
  private readonly nameCounts = new Map<string, number>();
  private readonly initializerNames = new Set<string>();
  private constCount = 0;

  constructor(readonly name: string) {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Declares `value` as a graph output named `name` (adds an Identity when the names differ). */
  output(value: string, name: string, type: ElemType, dims: Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, { outputName: name });
    this.outputs.push({ name, type, dims });
  }

  /** Runs `body` inside a module scope, e.g. scope('down_blocks.0', ...) -> "/down_blocks.0/...". */
  scope<T>(part: string, body: () => T): T {
    this.scopeStack.push(part);
    try {
      return body();
    } finally {
      this.scopeStack.pop();
    }
  }

  /** Runs `body` with the scope set to exactly `parts` (a module's absolute path), then restores it. */
  atScope<T>(parts: string[], body: () => T): T {
    const saved = this.scopeStack.splice(0, this.scopeStack.length, ...parts);
    try {
      return body();
    } finally {
      this.scopeStack.splice(0, this.scopeStack.length, ...saved);
    }
  }

  get scopePath(): string {
    return this.scopeStack.map((p) => `/${p}`).join('');
  }

  /** Adds a weight; the name is the module path (e.g. "conv_in.weight") unless given. */
  initializer(name: string, type: ElemType, dims: number[], data: TensorData): string {
    if (this.initializerNames.has(name)) throw new Error(`initializer ${name} added twice`);
    this.initializerNames.add(name);
    this.initializers.push({ name, type, dims, data });
    return name;
  }

  /** A small constant tensor (shapes, axes, scalars), stored as an initializer. */
  constInt64(values: number[], dims: number[] = [values.length]): string {
    const bytes = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    return this.initializer(`const_i64_${this.constCount++}`, 'int64', dims, { kind: 'bytes', bytes });
  }

  constFloat(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    const bytes = new Uint8Array(Float32Array.from(values).buffer);
    return this.initializer(`const_f32_${this.constCount++}`, 'float32', dims, { kind: 'bytes', bytes });
  }

  /** Adds one node with one output and returns that output's name. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttrValue> = {},
    options: { domain?: string; outputName?: string; outputs?: number } = {},
  ): string {
    return this.opMulti(opType, inputs, attributes, options)[0]!;
  }

  opMulti(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttrValue> = {},
    options: { domain?: string; outputName?: string; outputs?: number } = {},
  ): string[] {
    const base = `${this.scopePath}/${opType}`;
    const count = this.nameCounts.get(base) ?? 0;
    this.nameCounts.set(base, count + 1);
    const name = count === 0 ? base : `${base}_${count}`;
    const n = options.outputs ?? 1;
    const outputs =
      options.outputName !== undefined
        ? [options.outputName]
        : Array.from({ length: n }, (_, i) => `${name}_output_${i}`);
    const domain = options.domain ?? '';
    if (domain !== '' && this.opsets[domain] === undefined) this.opsets[domain] = 1;
    this.nodes.push({ name, opType, domain, inputs, outputs, attributes });
    return outputs;
  }

  build(): OnnxGraph {
    return {
      name: this.name,
      inputs: this.inputs,
      outputs: this.outputs,
      nodes: this.nodes,
      initializers: this.initializers,
      opsets: this.opsets,
    };
  }
}
