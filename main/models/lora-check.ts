// Decides from its keys and shapes whether a .safetensors file is a LoRA for the SD 1.5 UNet,
// and says what it is instead when it is not (SDXL, SD 2.x, text-encoder only, a full checkpoint).
import { parseKey } from '../../native-models/src/lora/lora-file.ts';
import { readSafetensorsFile, type SafetensorsFile } from '../../native-models/src/lora/safetensors.ts';
import { ImportError } from './types.ts';

export interface LoraSummary {
  format: 'kohya' | 'diffusers';
  /** UNet layers the LoRA changes. */
  unetLayers: number;
  textEncoderLayers: number;
  ranks: number[];
  /** Width of the text embedding the cross-attention LoRA expects (768 for SD 1.5), if present. */
  crossAttentionDim: number | null;
}

/** SD 1.5's UNet in diffusers naming (dots as underscores): the only layers a LoRA can target. */
const SD15_UNET_MODULE = /^(down_blocks_[0-3]|mid_block|up_blocks_[0-3]|time_embedding|conv_in|conv_out|conv_norm_out)(_|$)/;

interface Layer {
  side: 'unet' | 'te';
  module: string;
  down?: number[];
  up?: number[];
}

/**
 * Groups keys into layers with the LoRA library's own key parser (native-models/src/lora), so
 * what passes here is exactly what the fusion code understands.
 */
function collectLayers(file: SafetensorsFile): { format: LoraSummary['format'] | null; layers: Map<string, Layer> } {
  const layers = new Map<string, Layer>();
  let format: LoraSummary['format'] | null = null;
  for (const [key, info] of file.tensors) {
    const parts = parseKey(key);
    if (!parts || parts.component === 'foreign') continue;
    format = key.startsWith('lora_') ? 'kohya' : (format ?? 'diffusers');
    const side: Layer['side'] = parts.component === 'unet' ? 'unet' : 'te';
    const id = `${side}:${parts.flatName}`;
    const layer = layers.get(id) ?? { side, module: parts.flatName };
    if (parts.role === 'down') layer.down = info.shape;
    else if (parts.role === 'up') layer.up = info.shape;
    layers.set(id, layer);
  }
  return { format, layers };
}

export function summarizeLora(file: SafetensorsFile, name = 'the file'): LoraSummary {
  const { format, layers } = collectLayers(file);
  const problems: string[] = [];
  if (format === null || layers.size === 0) {
    const sample = [...file.tensors.keys()].slice(0, 3).join(', ');
    const looksLikeCheckpoint = [...file.tensors.keys()].some((k) => k.startsWith('model.diffusion_model.'));
    throw new ImportError(
      looksLikeCheckpoint
        ? `${name} is a full Stable Diffusion checkpoint, not a LoRA; export it to an ONNX folder and import that`
        : `${name} is not a LoRA: no lora_down/lora_up (kohya) or lora_A/lora_B (diffusers) keys (first keys: ${sample || 'none'})`,
    );
  }
  const unet = [...layers.values()].filter((l) => l.side === 'unet');
  const te = [...layers.values()].filter((l) => l.side === 'te');
  if ([...file.tensors.keys()].some((k) => /^lora_te2_|text_encoder_2\./.test(k))) {
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
  let parsed: SafetensorsFile;
  try {
    parsed = await readSafetensorsFile(path);
  } catch (error) {
    throw new ImportError((error as Error).message);
  }
  return summarizeLora(parsed, path);
}
