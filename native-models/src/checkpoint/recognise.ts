// Recognises an SD 1.5 checkpoint from its tensors and refuses everything else with a message that
// names what was found: the graphs built here are SD 1.5's (UNet with 4 input channels, 768-wide
// cross-attention from a CLIP ViT-L text encoder, epsilon prediction).
import { existsSync, readFileSync } from 'node:fs';
import type { SafetensorsFile } from './safetensors.ts';
import type { WeightTable } from './weights.ts';

export class UnsupportedCheckpointError extends Error {
  constructor(
    readonly kind: 'sdxl' | 'sd2' | 'inpainting' | 'v-prediction' | 'incomplete' | 'unknown',
    message: string,
  ) {
    super(message);
  }
}

const SD15_ONLY = 'YOSO Studio runs Stable Diffusion 1.5 checkpoints (DreamShaper 8, ICBINP, Realistic Vision, ...)';

function anyKey(keys: Iterable<string>, test: (k: string) => boolean): string | undefined {
  for (const k of keys) if (test(k)) return k;
  return undefined;
}

/**
 * Markers of a v-prediction model that a single file can carry, or its sidecar LDM config
 * (AUTOMATIC1111 reads `<name>.yaml` beside the checkpoint; v models say `parameterization: "v"`).
 */
function vPredictionMarker(file: SafetensorsFile): string | undefined {
  if (file.tensors.has('v_pred')) return 'a "v_pred" tensor';
  const sidecar = file.path.replace(/\.safetensors$/i, '.yaml');
  if (sidecar !== file.path && existsSync(sidecar) && /^\s*parameterization:\s*["']?v["']?\s*$/m.test(readFileSync(sidecar, 'utf8'))) {
    return `parameterization "v" in ${sidecar}`;
  }
  const meta = file.metadata;
  const pred = meta['modelspec.prediction_type'] ?? meta['prediction_type'];
  if (pred && /^v/i.test(pred)) return `metadata prediction_type "${pred}"`;
  if (meta['ss_v_parameterization'] === 'True' || meta['ss_v_parameterization'] === 'true') {
    return 'metadata ss_v_parameterization "True"';
  }
  return undefined;
}

/**
 * Throws UnsupportedCheckpointError unless `raw` (the file's own keys) and `weights` (mapped to
 * diffusers names) describe an SD 1.5 text-to-image model with all three parts.
 */
export function recogniseSd15(files: SafetensorsFile[], weights: WeightTable): void {
  const rawKeys = files.flatMap((f) => [...f.tensors.keys()]);
  const name = files.map((f) => f.path).join(', ');

  const xl = anyKey(rawKeys, (k) => k.startsWith('conditioner.embedders.') || k.startsWith('model.diffusion_model.label_emb.') || k.startsWith('add_embedding.'));
  if (xl) {
    throw new UnsupportedCheckpointError('sdxl', `${name} is an SDXL checkpoint (found ${xl}). ${SD15_ONLY}; SDXL is not supported.`);
  }
  const openClip = anyKey(rawKeys, (k) => k.startsWith('cond_stage_model.model.'));
  const crossDim = weights.get('unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight')?.shape[1];
  if (openClip || crossDim === 1024) {
    const found = openClip ? `an OpenCLIP text encoder (${openClip})` : 'cross-attention width 1024';
    throw new UnsupportedCheckpointError('sd2', `${name} is a Stable Diffusion 2.x checkpoint (found ${found}). ${SD15_ONLY}; SD 2.x is not supported.`);
  }
  if (crossDim !== undefined && crossDim > 768) {
    throw new UnsupportedCheckpointError('sdxl', `${name} has cross-attention width ${crossDim} (SD 1.5 has 768): an SDXL-type model. ${SD15_ONLY}.`);
  }
  const convIn = weights.get('unet.conv_in.weight');
  if (convIn && convIn.shape[1] !== 4) {
    const what = convIn.shape[1] === 9 ? 'an inpainting model' : convIn.shape[1] === 8 ? 'an instruct-pix2pix model' : 'not a text-to-image model';
    throw new UnsupportedCheckpointError('inpainting', `${name} is ${what}: its UNet takes ${convIn.shape[1]} input channels (conv_in ${JSON.stringify(convIn.shape)}), text-to-image SD 1.5 takes 4. ${SD15_ONLY}, not inpainting models.`);
  }
  for (const f of files) {
    const marker = vPredictionMarker(f);
    if (marker) {
      throw new UnsupportedCheckpointError('v-prediction', `${f.path} is a v-prediction model (found ${marker}). The YOSO LoRA and LCM sampling here need epsilon-prediction SD 1.5 checkpoints.`);
    }
  }
  const missing = [
    ['UNet', 'unet.conv_in.weight', 'model.diffusion_model.*'],
    ['VAE', 'vae.post_quant_conv.weight', 'first_stage_model.*'],
    ['text encoder', 'text_encoder.text_model.embeddings.token_embedding.weight', 'cond_stage_model.transformer.*'],
  ].filter(([, key]) => weights.get(key!) === undefined);
  if (missing.length === 3) {
    throw new UnsupportedCheckpointError('unknown', `${name} holds no Stable Diffusion weights (${rawKeys.length} tensors, e.g. ${rawKeys.slice(0, 2).join(', ') || 'none'}). Is it a LoRA or an embedding? ${SD15_ONLY}.`);
  }
  if (missing.length > 0) {
    throw new UnsupportedCheckpointError('incomplete', `${name} has no ${missing.map((m) => `${m[0]} (${m[2]})`).join(' and ')}: it is not a complete checkpoint. Use a full SD 1.5 checkpoint that includes UNet, VAE and text encoder.`);
  }
  const hidden = weights.get('text_encoder.text_model.embeddings.token_embedding.weight')!.shape[1];
  if (crossDim !== hidden) {
    throw new UnsupportedCheckpointError('unknown', `${name}: the UNet's cross-attention width ${crossDim} does not match the text encoder's width ${hidden}; this is not an SD 1.5 checkpoint.`);
  }
}
