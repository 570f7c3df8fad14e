// The subset of ONNX's protobuf schema (onnx/onnx.proto, IR version 10) that the LoRA patcher
// reads: nodes, their attributes, and tensors. Field numbers are transcribed from the public spec.
// Decoding with a partial schema is safe (unknown fields are skipped); we never re-encode a whole
// model with it — see ./model-bytes.ts, which splices bytes so unknown fields survive untouched.
import protobuf from 'protobufjs';

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10 },
            docString: { type: 'string', id: 12 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 } },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        // Only used to build the small helper graphs of ../../lora/fuse-kernel.ts.
        TypeProto: {
          fields: { tensorType: { type: 'TypeProtoTensor', id: 1 } },
        },
        TypeProtoTensor: {
          fields: { elemType: { type: 'int32', id: 1 } },
        },
        ValueInfoWithTypeProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoWithTypeProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoWithTypeProto', id: 12 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            graph: { type: 'GraphProto', id: 7 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const lookup = (name: string) => root.lookupType(`onnx.${name}`);

export const TensorProtoType = lookup('TensorProto');
export const NodeProtoType = lookup('NodeProto');
export const ModelProtoType = lookup('ModelProto');

/** ONNX TensorProto.DataType values the patcher deals with. */
export const OnnxDataType = { FLOAT: 1, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

/** TensorProto.DataLocation */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** Field numbers used when scanning raw bytes. */
export const Field = {
  MODEL_GRAPH: 7,
  GRAPH_NODE: 1,
  GRAPH_INITIALIZER: 5,
} as const;

export interface StringStringEntry {
  key: string;
  value: string;
}

/** A decoded TensorProto (protobufjs turns int64 into number | Long; see ./tensor.ts). */
export interface TensorProtoMessage {
  dims: Array<number | { toNumber(): number }>;
  dataType: number;
  floatData: number[];
  int32Data: number[];
  name: string;
  rawData: Uint8Array;
  externalData: StringStringEntry[];
  dataLocation: number;
}

export interface AttributeMessage {
  name: string;
  i?: number | { toNumber(): number };
  ints: Array<number | { toNumber(): number }>;
}

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: AttributeMessage[];
  domain: string;
}
