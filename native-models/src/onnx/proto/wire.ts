// Wire-level protobuf walking: where each top-level field of a message starts and ends. This lets
// us replace a few TensorProtos inside a 1 GB+ model without decoding or re-encoding the rest,
// and without dropping fields our partial schema does not know.
import protobuf from 'protobufjs';

export interface WireField {
  field: number;
  wireType: number;
  /** Offset of the tag (the field's first byte) within the message. */
  start: number;
  /** Offset one past the field's last byte. */
  end: number;
  /** For length-delimited fields: where the payload starts. */
  payloadStart: number;
}

export function scanFields(bytes: Uint8Array): WireField[] {
  const reader = protobuf.Reader.create(bytes);
  const fields: WireField[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new Error(`invalid protobuf: field number 0 at byte ${start}`);
    let payloadStart = reader.pos;
    if (wireType === 2) {
      const length = reader.uint32();
      payloadStart = reader.pos;
      if (payloadStart + length > reader.len) {
        throw new Error(`invalid protobuf: field ${field} at byte ${start} runs past the end (truncated file?)`);
      }
      reader.pos = payloadStart + length;
    } else {
      reader.skipType(wireType);
    }
    fields.push({ field, wireType, start, end: reader.pos, payloadStart });
  }
  return fields;
}

/** Encodes `tag(field, length-delimited) + varint(length)` for a payload of `length` bytes. */
export function lengthDelimitedHeader(field: number, length: number): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((field << 3) | 2).uint32(length);
  return writer.finish();
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
