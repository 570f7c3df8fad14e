// Architecture hyper-parameters of the three SD 1.5 models, read from the weights' shapes. What the
// shapes cannot tell (attention head counts, norm epsilons) defaults to SD 1.5's values and can be
// overridden by diffusers/transformers config.json files (the tiny fixture has 2 CLIP heads).
import type { WeightTable } from '../checkpoint/weights.ts';

export interface ClipTextConfig {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  maxPositions: number;
  vocabSize: number;
  layerNormEps: number;
}

export interface UnetConfig {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  /** For each down level: has cross-attention transformers (SD 1.5: true, true, true, false). */
  downCrossAttention: boolean[];
  /** Heads per attention (SD 1.5: 8; diffusers calls this attention_head_dim). */
  heads: number;
  crossAttentionDim: number;
  groups: number;
  normEps: number;
  /** Transformer2DModel's own GroupNorm epsilon (diffusers fixes it at 1e-6). */
  transformerNormEps: number;
}

export interface VaeDecoderConfig {
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  groups: number;
  eps: number;
}

export interface Sd15Config {
  textEncoder: ClipTextConfig;
  unet: UnetConfig;
  vae: VaeDecoderConfig;
}

/** Optional JSON configs (text_encoder/config.json, unet/config.json, vae/config.json contents). */
export interface ConfigOverrides {
  textEncoder?: Record<string, unknown>;
  unet?: Record<string, unknown>;
  vae?: Record<string, unknown>;
}

function count(weights: WeightTable, pattern: RegExp): number {
  const seen = new Set<string>();
  for (const k of weights.keys()) {
    const m = pattern.exec(k);
    if (m) seen.add(m[1]!);
  }
  return seen.size;
}

function shapeOf(weights: WeightTable, key: string): number[] {
  const w = weights.get(key);
  if (!w) throw new Error(`the checkpoint has no weight ${key}; is it a complete SD 1.5 checkpoint?`);
  return w.shape;
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

export function deriveSd15Config(weights: WeightTable, overrides: ConfigOverrides = {}): Sd15Config {
  const te = overrides.textEncoder ?? {};
  const [vocabSize, hiddenSize] = shapeOf(weights, 'text_encoder.text_model.embeddings.token_embedding.weight') as [number, number];
  const clipHeads = num(te.num_attention_heads, hiddenSize % 64 === 0 ? hiddenSize / 64 : 0);
  if (clipHeads <= 0 || hiddenSize % clipHeads !== 0) {
    throw new Error(`text encoder width ${hiddenSize} is not SD 1.5's; give its config.json (num_attention_heads) to build it`);
  }
  const textEncoder: ClipTextConfig = {
    hiddenSize,
    vocabSize,
    heads: clipHeads,
    layers: count(weights, /^text_encoder\.text_model\.encoder\.layers\.(\d+)\./),
    intermediateSize: shapeOf(weights, 'text_encoder.text_model.encoder.layers.0.mlp.fc1.weight')[0]!,
    maxPositions: shapeOf(weights, 'text_encoder.text_model.embeddings.position_embedding.weight')[0]!,
    layerNormEps: num(te.layer_norm_eps, 1e-5),
  };

  const un = overrides.unet ?? {};
  const levels = count(weights, /^unet\.down_blocks\.(\d+)\./);
  const blockOutChannels = Array.from({ length: levels }, (_, i) => shapeOf(weights, `unet.down_blocks.${i}.resnets.0.conv1.weight`)[0]!);
  const convIn = shapeOf(weights, 'unet.conv_in.weight');
  const unet: UnetConfig = {
    inChannels: convIn[1]!,
    outChannels: shapeOf(weights, 'unet.conv_out.weight')[0]!,
    blockOutChannels,
    layersPerBlock: count(weights, /^unet\.down_blocks\.0\.resnets\.(\d+)\./),
    downCrossAttention: blockOutChannels.map((_, i) => weights.get(`unet.down_blocks.${i}.attentions.0.proj_in.weight`) !== undefined),
    heads: num(un.attention_head_dim, 8),
    crossAttentionDim: shapeOf(weights, 'unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight')[1]!,
    groups: num(un.norm_num_groups, 32),
    normEps: num(un.norm_eps, 1e-5),
    transformerNormEps: 1e-6,
  };

  const va = overrides.vae ?? {};
  const vaeLevels = count(weights, /^vae\.decoder\.up_blocks\.(\d+)\./);
  const vae: VaeDecoderConfig = {
    latentChannels: shapeOf(weights, 'vae.post_quant_conv.weight')[0]!,
    // decoder up_blocks run from the widest level down; block_out_channels lists them narrowest first.
    blockOutChannels: Array.from({ length: vaeLevels }, (_, i) => shapeOf(weights, `vae.decoder.up_blocks.${vaeLevels - 1 - i}.resnets.0.conv1.weight`)[0]!),
    layersPerBlock: count(weights, /^vae\.decoder\.up_blocks\.0\.resnets\.(\d+)\./) - 1,
    groups: num(va.norm_num_groups, 32),
    eps: 1e-6,
  };
  return { textEncoder, unet, vae };
}
