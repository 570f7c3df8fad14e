// Maps the original single-file layout (CompVis/LDM names: model.diffusion_model.*,
// first_stage_model.*, cond_stage_model.transformer.*) to diffusers state-dict keys, following the
// correspondence documented by diffusers' conversion scripts (re-derived here, not copied).
// Returns null for keys the SD 1.5 graphs do not use (EMA copies, schedule buffers, ...).

export interface MappedKey {
  component: 'unet' | 'vae' | 'text_encoder';
  key: string;
}

export interface LdmLayout {
  /** Resnets per UNet down level (SD 1.5: 2). */
  unetLayersPerBlock: number;
  /** VAE decoder levels (SD 1.5: 4). */
  vaeLevels: number;
}

const RESNET: Record<string, string> = {
  'in_layers.0': 'norm1',
  'in_layers.2': 'conv1',
  'out_layers.0': 'norm2',
  'out_layers.3': 'conv2',
  'emb_layers.1': 'time_emb_proj',
  skip_connection: 'conv_shortcut',
};

function renameResnet(rest: string): string {
  for (const [from, to] of Object.entries(RESNET)) {
    if (rest.startsWith(`${from}.`)) return to + rest.slice(from.length);
  }
  return rest;
}

const ATTENTION_PARTS = ['norm.', 'proj_in.', 'proj_out.', 'transformer_blocks.'];
const isAttention = (rest: string) => ATTENTION_PARTS.some((p) => rest.startsWith(p));

/** Reads the layout numbers the mapping needs from the key names themselves. */
export function ldmLayout(keys: Iterable<string>): LdmLayout {
  let firstDownsample = Infinity;
  let maxUp = -1;
  for (const k of keys) {
    const op = /^model\.diffusion_model\.input_blocks\.(\d+)\.0\.op\.weight$/.exec(k);
    if (op) firstDownsample = Math.min(firstDownsample, Number(op[1]));
    const up = /^first_stage_model\.decoder\.up\.(\d+)\./.exec(k);
    if (up) maxUp = Math.max(maxUp, Number(up[1]));
  }
  return {
    unetLayersPerBlock: Number.isFinite(firstDownsample) ? firstDownsample - 1 : 2,
    vaeLevels: maxUp + 1,
  };
}

function mapUnet(rest: string, layout: LdmLayout): string | null {
  const per = layout.unetLayersPerBlock + 1;
  let m: RegExpExecArray | null;
  if ((m = /^time_embed\.(0|2)\.(.*)$/.exec(rest))) return `time_embedding.linear_${m[1] === '0' ? 1 : 2}.${m[2]}`;
  if ((m = /^input_blocks\.0\.0\.(.*)$/.exec(rest))) return `conv_in.${m[1]}`;
  if ((m = /^out\.0\.(.*)$/.exec(rest))) return `conv_norm_out.${m[1]}`;
  if ((m = /^out\.2\.(.*)$/.exec(rest))) return `conv_out.${m[1]}`;
  if ((m = /^input_blocks\.(\d+)\.(\d+)\.(.*)$/.exec(rest))) {
    const n = Number(m[1]) - 1;
    const [i, j, part, tail] = [Math.floor(n / per), n % per, m[2], m[3]!];
    if (j === per - 1) return tail.startsWith('op.') ? `down_blocks.${i}.downsamplers.0.conv.${tail.slice(3)}` : null;
    return part === '0' ? `down_blocks.${i}.resnets.${j}.${renameResnet(tail)}` : `down_blocks.${i}.attentions.${j}.${tail}`;
  }
  if ((m = /^middle_block\.(\d)\.(.*)$/.exec(rest))) {
    const tail = m[2]!;
    if (m[1] === '1') return `mid_block.attentions.0.${tail}`;
    return `mid_block.resnets.${m[1] === '0' ? 0 : 1}.${renameResnet(tail)}`;
  }
  if ((m = /^output_blocks\.(\d+)\.(\d+)\.(.*)$/.exec(rest))) {
    const n = Number(m[1]);
    const [i, j, part, tail] = [Math.floor(n / per), n % per, m[2], m[3]!];
    if (part === '0') return `up_blocks.${i}.resnets.${j}.${renameResnet(tail)}`;
    if (part === '1' && isAttention(tail)) return `up_blocks.${i}.attentions.${j}.${tail}`;
    if (tail.startsWith('conv.')) return `up_blocks.${i}.upsamplers.0.${tail}`;
  }
  return null;
}

function mapVaeResnet(rest: string): string {
  return rest.startsWith('nin_shortcut.') ? `conv_shortcut.${rest.slice('nin_shortcut.'.length)}` : rest;
}

const VAE_ATTN: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };

function mapVae(rest: string, layout: LdmLayout): string | null {
  let m: RegExpExecArray | null;
  if (/^(quant_conv|post_quant_conv)\./.test(rest)) return rest;
  if (!(m = /^(encoder|decoder)\.(.*)$/.exec(rest))) return null;
  const [coder, tail] = [m[1]!, m[2]!];
  const out = (s: string) => `${coder}.${s}`;
  if ((m = /^(conv_in|conv_out)\.(.*)$/.exec(tail))) return out(tail);
  if ((m = /^norm_out\.(.*)$/.exec(tail))) return out(`conv_norm_out.${m[1]}`);
  if ((m = /^mid\.block_(\d)\.(.*)$/.exec(tail))) return out(`mid_block.resnets.${Number(m[1]) - 1}.${mapVaeResnet(m[2]!)}`);
  if ((m = /^mid\.attn_1\.(norm|q|k|v|proj_out)\.(.*)$/.exec(tail))) return out(`mid_block.attentions.0.${VAE_ATTN[m[1]!]}.${m[2]}`);
  if ((m = /^(down|up)\.(\d+)\.(block|downsample|upsample)\.(.*)$/.exec(tail))) {
    const level = coder === 'decoder' ? layout.vaeLevels - 1 - Number(m[2]) : Number(m[2]);
    const blocks = coder === 'decoder' ? 'up_blocks' : 'down_blocks';
    if (m[3] === 'block') {
      const r = /^(\d+)\.(.*)$/.exec(m[4]!);
      return r ? out(`${blocks}.${level}.resnets.${r[1]}.${mapVaeResnet(r[2]!)}`) : null;
    }
    return out(`${blocks}.${level}.${m[3] === 'downsample' ? 'downsamplers' : 'upsamplers'}.0.${m[4]}`);
  }
  return null;
}

export function mapLdmKey(key: string, layout: LdmLayout): MappedKey | null {
  if (key.startsWith('model.diffusion_model.')) {
    const k = mapUnet(key.slice('model.diffusion_model.'.length), layout);
    return k === null ? null : { component: 'unet', key: k };
  }
  if (key.startsWith('first_stage_model.')) {
    const k = mapVae(key.slice('first_stage_model.'.length), layout);
    return k === null ? null : { component: 'vae', key: k };
  }
  if (key.startsWith('cond_stage_model.transformer.')) {
    const rest = key.slice('cond_stage_model.transformer.'.length);
    if (rest.endsWith('position_ids')) return null;
    return { component: 'text_encoder', key: rest.startsWith('text_model.') ? rest : `text_model.${rest}` };
  }
  return null;
}
