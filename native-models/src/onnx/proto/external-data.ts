// Lays initializers out in one external-data blob, the layout torch/optimum use for models over
// protobuf's 2 GB limit. Used to hand a patched model its fused weights from memory, and by tests
// to turn the tiny UNet into the external-data form real SD 1.5 fp32 UNets have.
import { bytesPerElement, type ExternalTensorRef, type OnnxModel } from './onnx-model.ts';

/** ORT memory-maps external data at page-aligned offsets; aligning costs at most 4 KiB per tensor. */
const ALIGNMENT = 4096;

export interface BlobLayout {
  location: string;
  refs: Map<string, ExternalTensorRef>;
  size: number;
}

export function layoutBlob(
  location: string,
  tensors: ReadonlyArray<{ name: string; dataType: number; dims: number[] }>,
): BlobLayout {
  const refs = new Map<string, ExternalTensorRef>();
  let size = 0;
  for (const t of tensors) {
    const length = t.dims.reduce((a, b) => a * b, 1) * bytesPerElement(t.dataType);
    size = Math.ceil(size / ALIGNMENT) * ALIGNMENT;
    refs.set(t.name, { name: t.name, dataType: t.dataType, dims: t.dims, location, offset: size, length });
    size += length;
  }
  return { location, refs, size };
}

export function sliceOf(data: Buffer, ref: ExternalTensorRef): Buffer {
  return data.subarray(ref.offset, ref.offset + ref.length);
}

export interface ExternalBlob {
  /** The model bytes whose chosen initializers point into `data`. */
  modelBytes: Uint8Array;
  /** File name the model refers to (ORT `externalData[].path`, or the file to write beside the model). */
  location: string;
  data: Buffer;
}

/** Moves every inline initializer of at least `minBytes` out of the model into one blob. */
export function externalizeAll(model: OnnxModel, location: string, minBytes = 1024): ExternalBlob {
  const chosen = [...model.initializerNames()]
    .map((name) => model.initializer(name)!)
    .filter((info) => !info.external && model.readInitializer(info.name).length >= minBytes);
  const layout = layoutBlob(location, chosen);
  const data = Buffer.alloc(layout.size);
  for (const ref of layout.refs.values()) sliceOf(data, ref).set(model.readInitializer(ref.name));
  return { modelBytes: model.withExternalInitializers(layout.refs), location, data };
}
