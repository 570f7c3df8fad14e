// Serialises an OnnxGraph to `<dir>/<name>.onnx`. Weights never go into the protobuf (it is
// limited to 2 GB and a full UNet is 3.4 GB in float32): tensors that already exist in the right
// type and layout inside a checkpoint point at their bytes there (ONNX external data with offset and
// length, through a hard link to the checkpoint placed beside the model); everything else (converted
// or transposed weights) is appended to one `<name>.onnx_data` file. Small constants stay inline.
import { closeSync, linkSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AttrValue, Initializer, OnnxGraph, ValueInfo } from './graph-builder.ts';
import { AttributeType, DataLocation, ELEM_TYPE_CODE, ModelProto } from '../onnx/proto/onnx-schema.ts';

const INLINE_LIMIT = 1024;
const ALIGN = 64;

export interface WriteStats {
  /** Bytes written into the `.onnx_data` file (converted or generated weights). */
  copiedBytes: number;
  /** Bytes referenced in place inside checkpoint files. */
  referencedBytes: number;
  /** How each checkpoint file was made reachable from the model folder. */
  links: Record<string, 'hardlink' | 'copy-of-ranges'>;
}

function valueInfo(v: ValueInfo) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE_CODE[v.type],
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue, tensor: (t: Initializer) => object) {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.TENSOR, t: tensor(value.tensor) };
}

function readRange(path: string, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) throw new Error(`${path} ended before byte ${offset + length}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/**
 * Makes `source` reachable from `dir` without copying it: a hard link (same file system). Returns
 * the link's file name, or null where no link can be made (then the ranges are copied).
 */
function linkInto(dir: string, source: string, index: number): string | null {
  const name = `weights_${index}_${basename(source).replace(/[^A-Za-z0-9._-]/g, '_')}`;
  try {
    rmSync(join(dir, name), { force: true });
    linkSync(source, join(dir, name));
    return name;
  } catch {
    return null;
  }
}

export function writeOnnxModel(
  graph: OnnxGraph,
  dir: string,
  fileName = 'model.onnx',
  options: { referenceFiles?: boolean; producer?: string } = {},
): WriteStats {
  const dataName = `${fileName}_data`;
  const dataPath = join(dir, dataName);
  const stats: WriteStats = { copiedBytes: 0, referencedBytes: 0, links: {} };
  const linkNames = new Map<string, string | null>();
  let fd: number | null = null;
  let dataOffset = 0;

  const append = (bytes: Uint8Array): { offset: number; length: number } => {
    if (fd === null) fd = openSync(dataPath, 'w');
    const pad = (ALIGN - (dataOffset % ALIGN)) % ALIGN;
    if (pad > 0) writeSync(fd, new Uint8Array(pad), 0, pad, dataOffset);
    const offset = dataOffset + pad;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
    dataOffset = offset + bytes.length;
    stats.copiedBytes += bytes.length;
    return { offset, length: bytes.length };
  };

  const external = (location: string, offset: number, length: number) => [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];

  const tensor = (t: Initializer): object => {
    const head = { name: t.name, dataType: ELEM_TYPE_CODE[t.type], dims: t.dims };
    const d = t.data;
    if (d.kind === 'file') {
      if (options.referenceFiles !== false) {
        if (!linkNames.has(d.path)) {
          const link = linkInto(dir, d.path, linkNames.size);
          linkNames.set(d.path, link);
          stats.links[d.path] = link === null ? 'copy-of-ranges' : 'hardlink';
        }
        const link = linkNames.get(d.path);
        if (link) {
          stats.referencedBytes += d.length;
          return { ...head, dataLocation: DataLocation.EXTERNAL, externalData: external(link, d.offset, d.length) };
        }
      }
      const { offset, length } = append(readRange(d.path, d.offset, d.length));
      return { ...head, dataLocation: DataLocation.EXTERNAL, externalData: external(dataName, offset, length) };
    }
    const bytes = d.kind === 'bytes' ? d.bytes : d.produce();
    if (d.kind === 'lazy' && bytes.length !== d.byteLength) {
      throw new Error(`${t.name}: produced ${bytes.length} bytes, expected ${d.byteLength}`);
    }
    if (bytes.length <= INLINE_LIMIT) return { ...head, rawData: bytes };
    const { offset, length } = append(bytes);
    return { ...head, dataLocation: DataLocation.EXTERNAL, externalData: external(dataName, offset, length) };
  };

  try {
    const model = {
      irVersion: 8,
      producerName: options.producer ?? 'yoso-studio graph builder',
      opsetImport: Object.entries(graph.opsets).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: graph.name,
        node: graph.nodes.map((n) => ({
          name: n.name,
          opType: n.opType,
          domain: n.domain,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v, tensor)),
        })),
        initializer: graph.initializers.map(tensor),
        input: graph.inputs.map(valueInfo),
        output: graph.outputs.map(valueInfo),
      },
    };
    const encoded = ModelProto.encode(ModelProto.fromObject(model)).finish();
    const modelFd = openSync(join(dir, fileName), 'w');
    try {
      let done = 0;
      while (done < encoded.length) done += writeSync(modelFd, encoded, done, encoded.length - done);
    } finally {
      closeSync(modelFd);
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return stats;
}

