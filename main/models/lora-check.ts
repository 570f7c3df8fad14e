// Decides from its keys and shapes whether a .safetensors file is a LoRA for the SD 1.5 UNet,
// and says what it is instead when it is not (SDXL, SD 2.x, text-encoder only, a full checkpoint).
import { ImportError } from './types.ts';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors-header.ts';

export interface LoraSummary {
  format: 'kohya' | 'diffusers';
  /** UNet layers the LoRA changes. */
  unetLayers: number;
  textEncoderLayers: number;
  ranks: number[];
  /** Width of the text embedding the cross-attention LoRA expects (768 for SD 1.5), if present. */
  crossAttentionDim: number | null;
}

const KOHYA = /^lora_(unet|te\d?)_(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;
const DIFFUSERS = /^(?:base_model\.model\.)?(unet|text_encoder)\.(.+?)\.(lora_A\.weight|lora_B\.weight|lora\.down\.weight|lora\.up\.weight|lora_A\.default\.weight|lora_B\.default\.weight|alpha)$/;

/** SD 1.5's UNet in diffusers naming (dots as underscores): the only layers a LoRA can target. */
const SD15_UNET_MODULE = /^(down_blocks_[0-3]|mid_block|up_blocks_[0-3]|time_embedding|conv_in|conv_out|conv_norm_out)(_|$)/;

interface Layer {
  side: 'unet' | 'te';
  module: string;
  down?: number[];
  up?: number[];
}

function collectLayers(header: SafetensorsHeader): { format: LoraSummary['format'] | null; layers: Map<string, Layer>; unknown: string[] } {
  const layers = new Map<string, Layer>();
  const unknown: string[] = [];
  let format: LoraSummary['format'] | null = null;
  for (const [key, info] of Object.entries(header.tensors)) {
    let side: Layer['side'];
    let module: string;
    let part: string;
    const k = KOHYA.exec(key);
    const d = k ? null : DIFFUSERS.exec(key);
    if (k) {
      format = 'kohya';
      side = k[1] === 'unet' ? 'unet' : 'te';
      module = k[2]!;
      part = k[3]!;
    } else if (d) {
      format ??= 'diffusers';
      side = d[1] === 'unet' ? 'unet' : 'te';
      module = d[2]!.replaceAll('.', '_');
      part = d[3]!;
    } else {
      unknown.push(key);
      continue;
    }
    const id = `${side}:${module}`;
    const layer = layers.get(id) ?? { side, module };
    if (/down|lora_A/.test(part)) layer.down = info.shape;
    else if (/up|lora_B/.test(part)) layer.up = info.shape;
    layers.set(id, layer);
  }
  return { format, layers, unknown };
}

export function summarizeLora(header: SafetensorsHeader, name = 'the file'): LoraSummary {
  const { format, layers } = collectLayers(header);
  const problems: string[] = [];
  if (format === null || layers.size === 0) {
    const sample = Object.keys(header.tensors).slice(0, 3).join(', ');
    const looksLikeCheckpoint = Object.keys(header.tensors).some((k) => k.startsWith('model.diffusion_model.'));
    throw new ImportError(
      looksLikeCheckpoint
        ? `${name} is a full Stable Diffusion checkpoint, not a LoRA; export it to an ONNX folder and import that`
        : `${name} is not a LoRA: no lora_down/lora_up (kohya) or lora_A/lora_B (diffusers) keys (first keys: ${sample || 'none'})`,
    );
  }
  const unet = [...layers.values()].filter((l) => l.side === 'unet');
  const te = [...layers.values()].filter((l) => l.side === 'te');
  if (Object.keys(header.tensors).some((k) => /^lora_te2_|text_encoder_2\./.test(k))) {
    problems.push('it has keys for a second text encoder: this is an SDXL LoRA, the app runs SD 1.5');
  }
  if (unet.length === 0) problems.push('it changes no UNet layer (text-encoder-only LoRAs are not supported)');
  const ldm = unet.filter((l) => /^(input_blocks|middle_block|output_blocks)_/.test(l.module));
  if (ldm.length > 0) {
    problems.push(`its UNet keys use the original LDM names (e.g. ${ldm[0]!.module}): SDXL LoRAs and some converters use these; the app needs SD 1.5 diffusers names (down_blocks_…)`);
  }
  const foreign = unet.filter((l) => !SD15_UNET_MODULE.test(l.module) && !ldm.includes(l));
  if (foreign.length > 0) problems.push(`UNet layer ${foreign[0]!.module} does not exist in SD 1.5`);
  if (unet.some((l) => /^down_blocks_3_attentions|^up_blocks_0_attentions/.test(l.module))) {
    problems.push('it has attention layers in down_blocks.3 / up_blocks.0, which SD 1.5 does not have (SD 2.x or SDXL?)');
  }
  if (unet.some((l) => /transformer_blocks_[1-9]/.test(l.module))) {
    problems.push('it has more than one transformer block per attention layer: an SDXL LoRA, the app runs SD 1.5');
  }
  const incomplete = [...layers.values()].filter((l) => !l.down || !l.up);
  if (incomplete.length > 0) problems.push(`layer ${incomplete[0]!.module} has only half of its down/up pair (truncated or damaged file)`);

  const crossAttn = unet.find((l) => /attn2_to_k$/.test(l.module) && l.down);
  const crossAttentionDim = crossAttn?.down?.[1] ?? null;
  if (crossAttentionDim === 1024) problems.push('its cross-attention expects 1024-wide text embeddings: an SD 2.x LoRA, SD 1.5 uses 768');
  if (crossAttentionDim === 2048) problems.push('its cross-attention expects 2048-wide text embeddings: an SDXL LoRA, SD 1.5 uses 768');

  if (problems.length > 0) {
    throw new ImportError(`${name} is not an SD 1.5 UNet LoRA: ${problems[0]}`, problems);
  }
  const ranks = [...new Set(unet.map((l) => l.down?.[0]).filter((r): r is number => typeof r === 'number'))].sort((a, b) => a - b);
  return { format, unetLayers: unet.length, textEncoderLayers: te.length, ranks, crossAttentionDim };
}

export async function checkLoraFile(path: string): Promise<LoraSummary> {
  let header: SafetensorsHeader;
  try {
    header = await readSafetensorsHeader(path);
  } catch (error) {
    throw new ImportError((error as Error).message);
  }
  return summarizeLora(header, path);
}
