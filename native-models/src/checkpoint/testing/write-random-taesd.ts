// Writes TAESD's published file layouts filled with the seeded weights of randomTaesdWeights, so the
// importer can be checked against the graph built from those same values (tests, e2e, benchmarks:
// the real file cannot be downloaded here).
import { randomTaesdWeights, TAESD_PREFIX } from '../../graph/taesd-decoder.ts';
import { floatsToHalf } from '../../util/float16.ts';
import { writeSafetensors, type FakeTensor } from './write-safetensors.ts';

export type TaesdFileLayout = 'diffusers' | 'original';

/** diffusers' AutoencoderTiny numbers the decoder's layers from 0 (no clamp module): taesd.py's index − 1. */
function keyIn(layout: TaesdFileLayout, key: string): string {
  if (layout === 'original') return key;
  const dot = key.indexOf('.');
  return `decoder.layers.${Number(key.slice(0, dot)) - 1}${key.slice(dot)}`;
}

export function writeRandomTaesdFile(path: string, seed: number, layout: TaesdFileLayout, dtype: 'F32' | 'F16' = 'F32'): void {
  const table = randomTaesdWeights(seed);
  const tensors: Record<string, FakeTensor> = {};
  for (const full of table.keys()) {
    const w = table.get(full)!;
    const values = w.readFloat32();
    const data = dtype === 'F32' ? values : floatsToHalf(values);
    tensors[keyIn(layout, full.slice(TAESD_PREFIX.length))] = { shape: w.shape, dtype, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  // The diffusers file carries the encoder too; the importer must ignore it.
  if (layout === 'diffusers') tensors['encoder.layers.0.weight'] = { shape: [64, 3, 3, 3], dtype };
  writeSafetensors(path, tensors);
}
