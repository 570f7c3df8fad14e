// The non-graph files of a built model, in the standard (optimum) folder layout the pipeline loads:
// model_index.json, scheduler/scheduler_config.json, tokenizer/, and a config.json per component
// describing the architecture the graphs were built with.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sd15Config } from '../graph/sd15-config.ts';
import { SD15_SCHEDULER_CONFIG } from '../scheduler/scheduler-config.ts';

const MODEL_INDEX = {
  _class_name: 'StableDiffusionPipeline',
  _diffusers_version: '0.26.3',
  feature_extractor: [null, null],
  image_encoder: [null, null],
  requires_safety_checker: false,
  safety_checker: [null, null],
  scheduler: ['diffusers', 'PNDMScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

export const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

const json = (path: string, value: unknown) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

export function checkTokenizerDir(dir: string): void {
  const missing = ['vocab.json', 'merges.txt'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`${dir} is not a CLIP tokenizer folder: ${missing.join(' and ')} missing (it needs vocab.json and merges.txt, as in openai/clip-vit-large-patch14 or an SD 1.5 model's tokenizer/ folder)`);
  }
}

export function writeModelFolderFiles(dir: string, cfg: Sd15Config, tokenizerDir: string): void {
  json(join(dir, 'model_index.json'), MODEL_INDEX);
  mkdirSync(join(dir, 'scheduler'), { recursive: true });
  json(join(dir, 'scheduler', 'scheduler_config.json'), SD15_SCHEDULER_CONFIG);
  checkTokenizerDir(tokenizerDir);
  mkdirSync(join(dir, 'tokenizer'), { recursive: true });
  for (const f of readdirSync(tokenizerDir)) {
    if (TOKENIZER_FILES.includes(f)) copyFileSync(join(tokenizerDir, f), join(dir, 'tokenizer', f));
  }
  const te = cfg.textEncoder;
  json(join(dir, 'text_encoder', 'config.json'), {
    architectures: ['CLIPTextModel'],
    model_type: 'clip_text_model',
    hidden_act: 'quick_gelu',
    hidden_size: te.hiddenSize,
    intermediate_size: te.intermediateSize,
    num_attention_heads: te.heads,
    num_hidden_layers: te.layers,
    max_position_embeddings: te.maxPositions,
    vocab_size: te.vocabSize,
    layer_norm_eps: te.layerNormEps,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  });
  const un = cfg.unet;
  json(join(dir, 'unet', 'config.json'), {
    _class_name: 'UNet2DConditionModel',
    act_fn: 'silu',
    attention_head_dim: un.heads,
    block_out_channels: un.blockOutChannels,
    cross_attention_dim: un.crossAttentionDim,
    down_block_types: un.downCrossAttention.map((x) => (x ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    up_block_types: [...un.downCrossAttention].reverse().map((x) => (x ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: un.inChannels,
    out_channels: un.outChannels,
    layers_per_block: un.layersPerBlock,
    norm_eps: un.normEps,
    norm_num_groups: un.groups,
    use_linear_projection: false,
  });
  const va = cfg.vae;
  json(join(dir, 'vae_decoder', 'config.json'), {
    _class_name: 'AutoencoderKL',
    act_fn: 'silu',
    block_out_channels: va.blockOutChannels,
    latent_channels: va.latentChannels,
    layers_per_block: va.layersPerBlock,
    norm_num_groups: va.groups,
    in_channels: 3,
    out_channels: 3,
    scaling_factor: 0.18215,
  });
}
