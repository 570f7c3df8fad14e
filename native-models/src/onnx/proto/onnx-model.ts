// An ONNX model held as its serialized bytes plus an index of nodes and initializers. Initializer
// data is read lazily (inline bytes are views, external data is read from disk on demand), and a
// modified model is produced by splicing re-encoded TensorProtos into the original bytes.
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import {
  DataLocation,
  Field,
  NodeProtoType,
  DataType,
  int64ToNumber,
  TensorProtoType,
  type NodeMessage,
  type TensorProtoMessage,
} from './onnx-schema.ts';
import { concatBytes, lengthDelimitedHeader, scanFields, type WireField } from './wire.ts';

export interface InitializerInfo {
  name: string;
  dataType: number;
  dims: number[];
  /** Where the data is: inline in the model, or in a file next to it. */
  external?: { location: string; offset: number; length: number };
}

/** A replacement TensorProto whose data lives in an external (possibly in-memory) file. */
export interface ExternalTensorRef {
  name: string;
  dataType: number;
  dims: number[];
  location: string;
  offset: number;
  length: number;
}


export function bytesPerElement(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
      return 4;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    case DataType.DOUBLE:
      return 8;
    default:
      throw new Error(`unsupported initializer data type ${dataType}`);
  }
}

export class OnnxModel {
  readonly nodes: NodeMessage[];
  private readonly modelFields: WireField[];
  private readonly graphField: WireField;
  private readonly graphFields: WireField[];
  private readonly tensors = new Map<string, { field: WireField; message: TensorProtoMessage }>();

  /**
   * @param bytes the serialized ModelProto
   * @param baseDir the folder external data locations are relative to (the model's folder)
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly baseDir: string | undefined,
  ) {
    this.modelFields = scanFields(bytes);
    const graph = this.modelFields.filter((f) => f.field === Field.MODEL_GRAPH);
    if (graph.length !== 1) throw new Error(`not an ONNX model: expected one graph, found ${graph.length}`);
    this.graphField = graph[0]!;
    this.graphFields = scanFields(this.graphBytes());
    const graphBytes = this.graphBytes();
    this.nodes = [];
    for (const field of this.graphFields) {
      const payload = graphBytes.subarray(field.payloadStart, field.end);
      if (field.field === Field.GRAPH_NODE) {
        this.nodes.push(NodeProtoType.decode(payload) as unknown as NodeMessage);
      } else if (field.field === Field.GRAPH_INITIALIZER) {
        const message = TensorProtoType.decode(payload) as unknown as TensorProtoMessage;
        this.tensors.set(message.name, { field, message });
      }
    }
  }

  static async load(path: string): Promise<OnnxModel> {
    return new OnnxModel(await readFile(path), dirname(path));
  }

  private graphBytes(): Uint8Array {
    return this.bytes.subarray(this.graphField.payloadStart, this.graphField.end);
  }

  initializerNames(): IterableIterator<string> {
    return this.tensors.keys();
  }

  initializer(name: string): InitializerInfo | undefined {
    const entry = this.tensors.get(name);
    if (!entry) return undefined;
    const { message } = entry;
    const info: InitializerInfo = { name, dataType: message.dataType, dims: message.dims.map(int64ToNumber) };
    if (message.dataLocation === DataLocation.EXTERNAL) {
      const kv = new Map(message.externalData.map((e) => [e.key, e.value]));
      const location = kv.get('location');
      if (!location) throw new Error(`initializer ${name} is external but names no location`);
      const elements = info.dims.reduce((a, b) => a * b, 1);
      info.external = {
        location,
        offset: Number(kv.get('offset') ?? 0),
        length: Number(kv.get('length') ?? elements * bytesPerElement(message.dataType)),
      };
    }
    return info;
  }

  /** The raw little-endian bytes of an initializer, wherever they are stored. */
  readInitializer(name: string): Uint8Array {
    const entry = this.tensors.get(name);
    const info = this.initializer(name);
    if (!entry || !info) throw new Error(`no initializer named ${name}`);
    if (info.external) return this.readExternal(name, info.external);
    const { message } = entry;
    if (message.rawData.length > 0) return message.rawData;
    if (message.dataType === DataType.FLOAT && message.floatData.length > 0) {
      return new Uint8Array(Float32Array.from(message.floatData).buffer);
    }
    if (
      (message.dataType === DataType.FLOAT16 || message.dataType === DataType.BFLOAT16) &&
      message.int32Data.length > 0
    ) {
      return new Uint8Array(Uint16Array.from(message.int32Data).buffer);
    }
    const elements = info.dims.reduce((a, b) => a * b, 1);
    if (elements === 0) return new Uint8Array(0);
    throw new Error(`initializer ${name}: data type ${message.dataType} stored in a field this reader does not handle`);
  }

  private readExternal(name: string, ext: { location: string; offset: number; length: number }): Uint8Array {
    if (!this.baseDir) {
      throw new Error(`initializer ${name} lives in external file ${ext.location}; load the model from its path`);
    }
    if (isAbsolute(ext.location) || normalize(ext.location).startsWith('..')) {
      throw new Error(`initializer ${name}: external data path ${ext.location} leaves the model folder`);
    }
    const out = Buffer.allocUnsafe(ext.length);
    const fd = openSync(join(this.baseDir, ext.location), 'r');
    try {
      let done = 0;
      while (done < ext.length) {
        const n = readSync(fd, out, done, ext.length - done, ext.offset + done);
        if (n === 0) throw new Error(`external data file ${ext.location} ends before initializer ${name} (truncated?)`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /**
   * Serializes the model with some initializers replaced by references to external data.
   * Everything else is copied byte for byte.
   */
  withExternalInitializers(replacements: ReadonlyMap<string, ExternalTensorRef>): Uint8Array {
    for (const name of replacements.keys()) {
      if (!this.tensors.has(name)) throw new Error(`no initializer named ${name}`);
    }
    const graphBytes = this.graphBytes();
    const parts: Uint8Array[] = [];
    for (const field of this.graphFields) {
      const original = graphBytes.subarray(field.start, field.end);
      if (field.field !== Field.GRAPH_INITIALIZER) {
        parts.push(original);
        continue;
      }
      const name = this.nameAt(field);
      const ref = name === undefined ? undefined : replacements.get(name);
      if (!ref) {
        parts.push(original);
        continue;
      }
      const encoded = encodeExternalTensor(ref);
      parts.push(lengthDelimitedHeader(Field.GRAPH_INITIALIZER, encoded.length), encoded);
    }
    const newGraph = concatBytes(parts);
    const modelParts: Uint8Array[] = [];
    for (const field of this.modelFields) {
      if (field === this.graphField) {
        modelParts.push(lengthDelimitedHeader(Field.MODEL_GRAPH, newGraph.length), newGraph);
      } else {
        modelParts.push(this.bytes.subarray(field.start, field.end));
      }
    }
    return concatBytes(modelParts);
  }

  private fieldNames?: Map<WireField, string>;
  private nameAt(field: WireField): string | undefined {
    if (!this.fieldNames) {
      this.fieldNames = new Map([...this.tensors.entries()].map(([name, t]) => [t.field, name]));
    }
    return this.fieldNames.get(field);
  }
}

export function encodeExternalTensor(ref: ExternalTensorRef): Uint8Array {
  const message = TensorProtoType.fromObject({
    name: ref.name,
    dims: ref.dims,
    dataType: ref.dataType,
    dataLocation: DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: ref.location },
      { key: 'offset', value: String(ref.offset) },
      { key: 'length', value: String(ref.length) },
    ],
  });
  return TensorProtoType.encode(message).finish();
}
