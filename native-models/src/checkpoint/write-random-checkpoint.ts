// Writes seeded random SD 1.5 weights as a diffusers-layout checkpoint folder (unet/, vae/,
// text_encoder/ .safetensors), streaming tensor by tensor, in float32 or float16. A stand-in for a
// real 2-4 GB download, to measure importing (hashing, referencing or converting) at full size.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Sd15Config } from '../graph/sd15-config.ts';
import { floatsToHalf } from '../util/float16.ts';
import { randomSd15Weights, SD15_FULL_CONFIG } from './random-sd15.ts';

/** float32 -> bfloat16 bits, rounding to nearest even (finite values). */
function toBfloat16Bits(values: Float32Array): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
  return out;
}

const FILES: Record<string, string> = { unet: 'unet/diffusion_pytorch_model.safetensors', vae: 'vae/diffusion_pytorch_model.safetensors', text_encoder: 'text_encoder/model.safetensors' };

export function writeRandomDiffusersCheckpoint(dir: string, seed: number, dtype: 'F32' | 'F16' | 'BF16', cfg: Sd15Config = SD15_FULL_CONFIG): void {
  const table = randomSd15Weights(seed, cfg);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  for (const [component, file] of Object.entries(FILES)) {
    const keys = table.keys().filter((k) => k.startsWith(`${component}.`)).sort();
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const k of keys) {
      const length = table.get(k)!.shape.reduce((a, b) => a * b, 1) * bytesPer;
      header[k.slice(component.length + 1)] = { dtype, shape: table.get(k)!.shape, data_offsets: [offset, offset + length] };
      offset += length;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
    const path = join(dir, file);
    mkdirSync(join(path, '..'), { recursive: true });
    const fd = openSync(path, 'w');
    try {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
      writeSync(fd, len);
      writeSync(fd, json);
      for (const k of keys) {
        const values = table.get(k)!.readFloat32();
        const data = dtype === 'F32' ? values : dtype === 'F16' ? floatsToHalf(values) : toBfloat16Bits(values);
        writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    } finally {
      closeSync(fd);
    }
  }
}
