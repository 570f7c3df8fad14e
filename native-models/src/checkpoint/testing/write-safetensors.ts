// Writes small .safetensors files for tests (zero-filled tensors with the given shapes), so refusal
// and layout tests can make SDXL-, SD2-, inpainting- or v-prediction-shaped checkpoints in a few KB.
import { writeFileSync } from 'node:fs';

const BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

export interface FakeTensor {
  shape: number[];
  dtype?: keyof typeof BYTES;
  /** Values (written as float32 / float16 bits / bfloat16 bits); zeros when absent. */
  data?: Uint8Array;
}

export function writeSafetensors(path: string, tensors: Record<string, FakeTensor>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const [key, t] of Object.entries(tensors).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dtype = t.dtype ?? 'F16';
    const length = t.shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    const data = t.data ?? new Uint8Array(length);
    if (data.length !== length) throw new Error(`${key}: ${data.length} bytes for ${length}`);
    header[key] = { dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    blobs.push(data);
    offset += length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...blobs]));
}
