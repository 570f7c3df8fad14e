// TAESD's decoder (madebyollin/taesd, "Tiny AutoEncoder for Stable Diffusion") as an ONNX graph: a
// few MB of 3x3 convs that turn the UNet's latents into an approximate picture in a fraction of the
// VAE's time, for previews. Weights use the names of taesd_decoder.pth (torch nn.Sequential indices):
// 0 Clamp (tanh(x/3)*3), 1 conv 4->64, 2 ReLU, then three stages of [3 Blocks, Upsample x2, conv
// without bias], then a Block and conv 64->3. A Block is ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x).
// Signature as the VAE decoder's export: latent_sample [B, 4, h, w] -> sample [B, 3, 8h, 8w] in
// about [-1, 1] (TAESD's [0, 1] output times 2 minus 1, as diffusers' AutoencoderTiny returns it),
// so both decoders share the pixel conversion. TAESD takes the UNet's latents unscaled.
import type { Weight, WeightTable } from '../checkpoint/weights.ts';
import { mapWeightTable } from '../checkpoint/weights.ts';
import { randomValues } from '../checkpoint/random-sd15.ts';
import { GraphBuilder, type OnnxGraph } from './graph-builder.ts';
import { Layers } from './layers.ts';

export const TAESD_PREFIX = 'taesd_decoder.';

export interface TaesdConfig {
  latentChannels: number;
  /** TAESD: 64. */
  channels: number;
  /** Blocks before each x2 upsampling (TAESD: 3, three times), then the final blocks. */
  stages: number;
  blocksPerStage: number;
  finalBlocks: number;
}

export const TAESD_CONFIG: TaesdConfig = { latentChannels: 4, channels: 64, stages: 3, blocksPerStage: 3, finalBlocks: 1 };

/** Sequential layout of the decoder: each entry is one torch module index and what it is. */
type Module = { index: number; kind: 'clamp' | 'conv' | 'relu' | 'block' | 'upsample' | 'convNoBias' | 'convOut' };

function modules(cfg: TaesdConfig): Module[] {
  const kinds: Module['kind'][] = ['clamp', 'conv', 'relu'];
  for (let s = 0; s < cfg.stages; s++) kinds.push(...Array<Module['kind']>(cfg.blocksPerStage).fill('block'), 'upsample', 'convNoBias');
  kinds.push(...Array<Module['kind']>(cfg.finalBlocks).fill('block'), 'convOut');
  return kinds.map((kind, index) => ({ index, kind }));
}

/** Weight names and shapes of taesd_decoder.pth for a config. */
export function taesdWeightShapes(cfg: TaesdConfig = TAESD_CONFIG): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const c = cfg.channels;
  const conv = (path: string, out: number, inp: number, bias = true) => {
    s.set(`${path}.weight`, [out, inp, 3, 3]);
    if (bias) s.set(`${path}.bias`, [out]);
  };
  for (const m of modules(cfg)) {
    if (m.kind === 'conv') conv(`${m.index}`, c, cfg.latentChannels);
    if (m.kind === 'convNoBias') conv(`${m.index}`, c, c, false);
    if (m.kind === 'convOut') conv(`${m.index}`, 3, c);
    if (m.kind === 'block') for (const j of [0, 2, 4]) conv(`${m.index}.conv.${j}`, c, c);
  }
  return s;
}

/** Seeded random TAESD decoder weights (tests and benchmarks; no download). */
export function randomTaesdWeights(seed: number, cfg: TaesdConfig = TAESD_CONFIG): WeightTable {
  const map = new Map<string, Weight>();
  for (const [key, shape] of taesdWeightShapes(cfg)) {
    const full = TAESD_PREFIX + key;
    map.set(full, { shape, dtype: 'F32', readFloat32: () => randomValues(seed, full, shape) });
  }
  return mapWeightTable(map);
}

export function buildTaesdDecoder(weights: WeightTable, cfg: TaesdConfig = TAESD_CONFIG): OnnxGraph {
  const g = new GraphBuilder('taesd_decoder');
  const L = new Layers(g, weights, TAESD_PREFIX);
  const latent = g.input('latent_sample', 'float32', ['batch_size', 'num_channels_latent', 'height_latent', 'width_latent']);
  const relu = (x: string) => g.op('Relu', [x]);
  let h = latent;
  for (const m of modules(cfg)) {
    const path = `${m.index}`;
    switch (m.kind) {
      case 'clamp': {
        const three = g.constFloat([3], []);
        h = L.inModule(path, () => g.op('Mul', [g.op('Tanh', [g.op('Div', [h, three])]), three]));
        break;
      }
      case 'relu':
        h = relu(h);
        break;
      case 'upsample':
        h = L.inModule(path, () =>
          g.op('Resize', [h, '', g.constFloat([1, 1, 2, 2])], { coordinate_transformation_mode: 'asymmetric', mode: 'nearest', nearest_mode: 'floor' }),
        );
        break;
      case 'block': {
        const x = h;
        h = L.inModule(path, () => {
          const y = L.conv(relu(L.conv(relu(L.conv(x, `${path}.conv.0`)), `${path}.conv.2`)), `${path}.conv.4`);
          return relu(g.op('Add', [y, x]));
        });
        break;
      }
      default:
        h = L.conv(h, path);
    }
  }
  const out = g.op('Sub', [g.op('Mul', [h, g.constFloat([2], [])]), g.constFloat([1], [])]);
  g.output(out, 'sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  return g.build();
}
