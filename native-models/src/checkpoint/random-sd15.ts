// Seeded random weights with SD 1.5's exact architecture (or any width given by a config), as a
// weight table the graph builder takes like a checkpoint's. Values are generated lazily, tensor by
// tensor, when the model is written, so a full-size model (1.07 B parameters) never sits in memory.
// Scaled so activations stay finite at 512x512: uniform weights with variance 1/fan_in, norms at 1/0.
import type { Sd15Config } from '../graph/sd15-config.ts';
import { mapWeightTable, type Weight, type WeightTable } from './weights.ts';

/** SD 1.5's architecture (runwayml/stable-diffusion-v1-5 configs). */
export const SD15_FULL_CONFIG: Sd15Config = {
  textEncoder: { hiddenSize: 768, layers: 12, heads: 12, intermediateSize: 3072, maxPositions: 77, vocabSize: 49408, layerNormEps: 1e-5 },
  unet: {
    inChannels: 4,
    outChannels: 4,
    blockOutChannels: [320, 640, 1280, 1280],
    layersPerBlock: 2,
    downCrossAttention: [true, true, true, false],
    heads: 8,
    crossAttentionDim: 768,
    groups: 32,
    normEps: 1e-5,
    transformerNormEps: 1e-6,
  },
  vae: { latentChannels: 4, blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, groups: 32, eps: 1e-6 },
};

type Shapes = Map<string, number[]>;

function linear(s: Shapes, path: string, out: number, inp: number, bias = true): void {
  s.set(`${path}.weight`, [out, inp]);
  if (bias) s.set(`${path}.bias`, [out]);
}
function conv(s: Shapes, path: string, out: number, inp: number, k: number): void {
  s.set(`${path}.weight`, [out, inp, k, k]);
  s.set(`${path}.bias`, [out]);
}
function norm(s: Shapes, path: string, c: number): void {
  s.set(`${path}.weight`, [c]);
  s.set(`${path}.bias`, [c]);
}
function resnet(s: Shapes, path: string, cin: number, cout: number, temb: number | null): void {
  norm(s, `${path}.norm1`, cin);
  conv(s, `${path}.conv1`, cout, cin, 3);
  if (temb !== null) linear(s, `${path}.time_emb_proj`, cout, temb);
  norm(s, `${path}.norm2`, cout);
  conv(s, `${path}.conv2`, cout, cout, 3);
  if (cin !== cout) conv(s, `${path}.conv_shortcut`, cout, cin, 1);
}
function transformer(s: Shapes, path: string, c: number, cross: number): void {
  norm(s, `${path}.norm`, c);
  conv(s, `${path}.proj_in`, c, c, 1);
  const b = `${path}.transformer_blocks.0`;
  for (const n of ['norm1', 'norm2', 'norm3']) norm(s, `${b}.${n}`, c);
  for (const [attn, kv] of [['attn1', c], ['attn2', cross]] as const) {
    linear(s, `${b}.${attn}.to_q`, c, c, false);
    linear(s, `${b}.${attn}.to_k`, c, kv, false);
    linear(s, `${b}.${attn}.to_v`, c, kv, false);
    linear(s, `${b}.${attn}.to_out.0`, c, c);
  }
  linear(s, `${b}.ff.net.0.proj`, 8 * c, c);
  linear(s, `${b}.ff.net.2`, c, 4 * c);
  conv(s, `${path}.proj_out`, c, c, 1);
}

/** Diffusers keys and shapes of the three SD 1.5 models (VAE: decoder + post_quant_conv only). */
export function sd15WeightShapes(cfg: Sd15Config): Shapes {
  const s: Shapes = new Map();
  const te = cfg.textEncoder;
  const t = (k: string) => `text_encoder.text_model.${k}`;
  s.set(t('embeddings.token_embedding.weight'), [te.vocabSize, te.hiddenSize]);
  s.set(t('embeddings.position_embedding.weight'), [te.maxPositions, te.hiddenSize]);
  for (let i = 0; i < te.layers; i++) {
    const p = t(`encoder.layers.${i}`);
    norm(s, `${p}.layer_norm1`, te.hiddenSize);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(s, `${p}.self_attn.${proj}`, te.hiddenSize, te.hiddenSize);
    norm(s, `${p}.layer_norm2`, te.hiddenSize);
    linear(s, `${p}.mlp.fc1`, te.intermediateSize, te.hiddenSize);
    linear(s, `${p}.mlp.fc2`, te.hiddenSize, te.intermediateSize);
  }
  norm(s, t('final_layer_norm'), te.hiddenSize);

  const un = cfg.unet;
  const u = (k: string) => `unet.${k}`;
  const bo = un.blockOutChannels;
  const temb = 4 * bo[0]!;
  conv(s, u('conv_in'), bo[0]!, un.inChannels, 3);
  linear(s, u('time_embedding.linear_1'), temb, bo[0]!);
  linear(s, u('time_embedding.linear_2'), temb, temb);
  const levels = bo.length;
  for (let i = 0; i < levels; i++) {
    const cout = bo[i]!;
    for (let j = 0; j < un.layersPerBlock; j++) {
      resnet(s, u(`down_blocks.${i}.resnets.${j}`), j === 0 ? bo[Math.max(0, i - 1)]! : cout, cout, temb);
      if (un.downCrossAttention[i]) transformer(s, u(`down_blocks.${i}.attentions.${j}`), cout, un.crossAttentionDim);
    }
    if (i < levels - 1) conv(s, u(`down_blocks.${i}.downsamplers.0.conv`), cout, cout, 3);
  }
  const top = bo[levels - 1]!;
  resnet(s, u('mid_block.resnets.0'), top, top, temb);
  transformer(s, u('mid_block.attentions.0'), top, un.crossAttentionDim);
  resnet(s, u('mid_block.resnets.1'), top, top, temb);
  const rev = [...bo].reverse();
  const upCross = [...un.downCrossAttention].reverse();
  for (let i = 0; i < levels; i++) {
    const out = rev[i]!;
    const prev = rev[Math.max(0, i - 1)]!;
    const input = rev[Math.min(i + 1, levels - 1)]!;
    for (let j = 0; j <= un.layersPerBlock; j++) {
      const skip = j === un.layersPerBlock ? input : out;
      resnet(s, u(`up_blocks.${i}.resnets.${j}`), (j === 0 ? prev : out) + skip, out, temb);
      if (upCross[i]) transformer(s, u(`up_blocks.${i}.attentions.${j}`), out, un.crossAttentionDim);
    }
    if (i < levels - 1) conv(s, u(`up_blocks.${i}.upsamplers.0.conv`), out, out, 3);
  }
  norm(s, u('conv_norm_out'), bo[0]!);
  conv(s, u('conv_out'), un.outChannels, bo[0]!, 3);

  const va = cfg.vae;
  const v = (k: string) => `vae.${k}`;
  const vrev = [...va.blockOutChannels].reverse();
  conv(s, v('post_quant_conv'), va.latentChannels, va.latentChannels, 1);
  conv(s, v('decoder.conv_in'), vrev[0]!, va.latentChannels, 3);
  resnet(s, v('decoder.mid_block.resnets.0'), vrev[0]!, vrev[0]!, null);
  norm(s, v('decoder.mid_block.attentions.0.group_norm'), vrev[0]!);
  for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(s, v(`decoder.mid_block.attentions.0.${p}`), vrev[0]!, vrev[0]!);
  resnet(s, v('decoder.mid_block.resnets.1'), vrev[0]!, vrev[0]!, null);
  for (let i = 0; i < vrev.length; i++) {
    const out = vrev[i]!;
    for (let j = 0; j <= va.layersPerBlock; j++) resnet(s, v(`decoder.up_blocks.${i}.resnets.${j}`), j === 0 ? vrev[Math.max(0, i - 1)]! : out, out, null);
    if (i < vrev.length - 1) conv(s, v(`decoder.up_blocks.${i}.upsamplers.0.conv`), out, out, 3);
  }
  norm(s, v('decoder.conv_norm_out'), vrev[vrev.length - 1]!);
  conv(s, v('decoder.conv_out'), 3, vrev[vrev.length - 1]!, 3);
  return s;
}

/** 32-bit FNV-1a, to give every tensor its own stream from (seed, key). */
function hashKey(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function randomValues(seed: number, key: string, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const isNormWeight = /(norm\w*|layer_norm\d|final_layer_norm)\.weight$/.test(key);
  if (key.endsWith('.bias')) return out;
  if (isNormWeight) return out.fill(1);
  const embedding = key.includes('embedding.weight') && key.startsWith('text_encoder');
  const fanIn = embedding ? 1 : n / shape[0]!;
  const amplitude = embedding ? 0.02 * Math.sqrt(3) : Math.sqrt(3 / fanIn);
  // xorshift32: fast enough to fill 1 B values in seconds, and the same on every platform.
  let x = hashKey(seed, key) || 1;
  const scale = (2 * amplitude) / 4294967296;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) * scale - amplitude;
  }
  return out;
}

export function randomSd15Weights(seed: number, cfg: Sd15Config = SD15_FULL_CONFIG): WeightTable {
  const map = new Map<string, Weight>();
  for (const [key, shape] of sd15WeightShapes(cfg)) {
    map.set(key, { shape, dtype: 'F32', readFloat32: () => randomValues(seed, key, shape) });
  }
  return mapWeightTable(map);
}

export function countParameters(table: WeightTable, prefix: string): number {
  return table.keys().filter((k) => k.startsWith(prefix)).reduce((sum, k) => sum + table.get(k)!.shape.reduce((a, b) => a * b, 1), 0);
}

