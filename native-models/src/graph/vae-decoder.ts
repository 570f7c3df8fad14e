// AutoencoderKL.decode (diffusers) as an ONNX graph with the standard export's signature:
// latent_sample [B, 4, h, w] (already divided by the scaling factor) -> sample [B, 3, 8h, 8w].
// post_quant_conv, conv_in, a mid block (resnet, single-head self-attention, resnet), up blocks of
// layers_per_block + 1 resnets with nearest x2 upsampling, GroupNorm (eps 1e-6), SiLU, conv_out.
import type { WeightTable } from '../checkpoint/weights.ts';
import { GraphBuilder, type OnnxGraph } from './graph-builder.ts';
import { Layers } from './layers.ts';
import type { VaeDecoderConfig } from './sd15-config.ts';
import { upsample } from './unet.ts';

export function buildVaeDecoder(weights: WeightTable, cfg: VaeDecoderConfig): OnnxGraph {
  const g = new GraphBuilder('vae_decoder');
  const L = new Layers(g, weights, 'vae.');
  const latent = g.input('latent_sample', 'float32', ['batch_size', 'num_channels_latent', 'height_latent', 'width_latent']);

  const resnet = (x: string, path: string): string =>
    L.inModule(path, () => {
      let h = L.conv(L.silu(L.groupNorm(x, `${path}.norm1`, cfg.groups, cfg.eps)), `${path}.conv1`);
      h = L.conv(L.silu(L.groupNorm(h, `${path}.norm2`, cfg.groups, cfg.eps)), `${path}.conv2`);
      const shortcut = L.has(`${path}.conv_shortcut.weight`) ? L.conv(x, `${path}.conv_shortcut`) : x;
      return g.op('Add', [shortcut, h]);
    });

  const attention = (x: string, path: string): string =>
    L.inModule(path, () => {
      const channels = L.shape(`${path}.to_q.weight`)[0]!;
      const shape = g.op('Shape', [x]);
      const normed = L.groupNorm(x, `${path}.group_norm`, cfg.groups, cfg.eps);
      // [B, C, H, W] -> [B, H*W, C]
      const seq = g.op('Transpose', [g.op('Reshape', [normed, g.constInt64([0, channels, -1])])], { perm: [0, 2, 1] });
      const q = L.linear(seq, `${path}.to_q`);
      const k = L.linear(seq, `${path}.to_k`);
      const v = L.linear(seq, `${path}.to_v`);
      const out = L.linear(L.attention(q, k, v, 1, channels), `${path}.to_out.0`);
      const back = g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1] }), shape]);
      return g.op('Add', [back, x]);
    });

  let h = L.conv(latent, 'post_quant_conv');
  h = L.conv(h, 'decoder.conv_in');
  h = resnet(h, 'decoder.mid_block.resnets.0');
  h = attention(h, 'decoder.mid_block.attentions.0');
  h = resnet(h, 'decoder.mid_block.resnets.1');
  const levels = cfg.blockOutChannels.length;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j <= cfg.layersPerBlock; j++) h = resnet(h, `decoder.up_blocks.${i}.resnets.${j}`);
    if (i < levels - 1) h = upsample(g, L, h, `decoder.up_blocks.${i}.upsamplers.0`);
  }
  h = L.conv(L.silu(L.groupNorm(h, 'decoder.conv_norm_out', cfg.groups, cfg.eps), 'decoder.conv_act'), 'decoder.conv_out');
  g.output(h, 'sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  return g.build();
}
