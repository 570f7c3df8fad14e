// UNet2DConditionModel (diffusers, SD 1.5 configuration) as an ONNX graph with the standard export's
// signature: sample [B, C, H, W], timestep int64 [steps] (one value broadcast to the batch, or one per
// item), encoder_hidden_states [B, S, cross_dim] -> out_sample [B, C, H, W].
import type { WeightTable } from '../checkpoint/weights.ts';
import { GraphBuilder, type OnnxGraph } from './graph-builder.ts';
import { Layers } from './layers.ts';
import type { UnetConfig } from './sd15-config.ts';

/**
 * Frequencies of the sinusoidal timestep embedding (flip_sin_to_cos=True, downscale_freq_shift=0):
 * exp(-ln(10000) * i / half) for i < half, rounded to float32 at each step as torch computes them.
 */
export function timestepFrequencies(half: number): Float32Array {
  const f = Math.fround;
  const minusLog = f(-Math.log(10000));
  return Float32Array.from({ length: half }, (_, i) => f(Math.exp(f(f(minusLog * i) / half))));
}

export function buildUnet(weights: WeightTable, cfg: UnetConfig): OnnxGraph {
  const g = new GraphBuilder('unet');
  const L = new Layers(g, weights, 'unet.');
  const sample = g.input('sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['steps']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', cfg.crossAttentionDim]);
  const unsqueeze23 = g.constInt64([2, 3]);

  // Time embedding: [B] timesteps -> [B, 4 * C0].
  const batch = g.op('Slice', [g.op('Shape', [sample]), g.constInt64([0]), g.constInt64([1])]);
  const timesteps = g.op('Expand', [timestep, batch]);
  const projected = g.scope('time_proj', () => {
    const half = L.shape('time_embedding.linear_1.weight')[1]! / 2;
    const t = g.op('Cast', [g.op('Unsqueeze', [timesteps, g.constInt64([1])])], { to: 1 });
    const args = g.op('Mul', [t, g.constFloat(timestepFrequencies(half), [1, half])]);
    return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: -1 });
  });
  const temb = L.gemm(L.silu(L.gemm(projected, 'time_embedding.linear_1'), 'time_embedding.act'), 'time_embedding.linear_2');

  const resnet = (x: string, path: string): string =>
    L.inModule(path, () => {
      let h = L.conv(L.silu(L.groupNorm(x, `${path}.norm1`, cfg.groups, cfg.normEps)), `${path}.conv1`);
      const t = L.gemm(L.silu(temb), `${path}.time_emb_proj`);
      h = g.op('Add', [h, g.op('Unsqueeze', [t, unsqueeze23])]);
      h = L.conv(L.silu(L.groupNorm(h, `${path}.norm2`, cfg.groups, cfg.normEps)), `${path}.conv2`);
      const shortcut = L.has(`${path}.conv_shortcut.weight`) ? L.conv(x, `${path}.conv_shortcut`) : x;
      return g.op('Add', [shortcut, h]);
    });

  const attentionBlock = (x: string, path: string, ctx: string | null): string => {
    const dim = L.shape(`${path}.to_q.weight`)[0]!;
    const q = L.linear(x, `${path}.to_q`);
    const k = L.linear(ctx ?? x, `${path}.to_k`);
    const v = L.linear(ctx ?? x, `${path}.to_v`);
    const out = L.inModule(path, () => L.attention(q, k, v, cfg.heads, dim / cfg.heads));
    return L.linear(out, `${path}.to_out.0`);
  };

  const transformer = (x: string, path: string): string =>
    L.inModule(path, () => {
      const channels = L.shape(`${path}.proj_in.weight`)[0]!;
      let h = L.conv(L.groupNorm(x, `${path}.norm`, cfg.groups, cfg.transformerNormEps), `${path}.proj_in`);
      const shape = g.op('Shape', [h]);
      h = g.op('Reshape', [g.op('Transpose', [h], { perm: [0, 2, 3, 1] }), g.constInt64([0, -1, channels])]);
      for (let b = 0; L.has(`${path}.transformer_blocks.${b}.attn1.to_q.weight`); b++) {
        const p = `${path}.transformer_blocks.${b}`;
        h = L.inModule(p, () => {
          let y = g.op('Add', [attentionBlock(L.layerNorm(h, `${p}.norm1`, 1e-5), `${p}.attn1`, null), h]);
          y = g.op('Add', [attentionBlock(L.layerNorm(y, `${p}.norm2`, 1e-5), `${p}.attn2`, context), y]);
          const ffIn = L.layerNorm(y, `${p}.norm3`, 1e-5);
          const proj = L.linear(ffIn, `${p}.ff.net.0.proj`);
          const geglu = L.inModule(`${p}.ff.net.0`, () => {
            const [hidden, gate] = g.opMulti('Split', [proj], { axis: -1 }, { outputs: 2 }) as [string, string];
            // exact GELU: 0.5 * x * (1 + erf(x / sqrt(2)))
            const erf = g.op('Erf', [g.op('Div', [gate, g.constFloat([Math.SQRT2], [])])]);
            const gelu = g.op('Mul', [g.op('Mul', [gate, g.op('Add', [erf, g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
            return g.op('Mul', [hidden, gelu]);
          });
          return g.op('Add', [L.linear(geglu, `${p}.ff.net.2`), y]);
        });
      }
      // [B, H*W, C] -> [B, C, H, W] using the spatial shape saved before flattening.
      const nhwc = g.op('Concat', [g.op('Gather', [shape, g.constInt64([0, 2, 3])], { axis: 0 }), g.constInt64([channels])], { axis: 0 });
      h = g.op('Transpose', [g.op('Reshape', [h, nhwc])], { perm: [0, 3, 1, 2] });
      return g.op('Add', [L.conv(h, `${path}.proj_out`), x]);
    });

  let h = L.conv(sample, 'conv_in');
  const skips: string[] = [h];
  const levels = cfg.blockOutChannels.length;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      h = resnet(h, `down_blocks.${i}.resnets.${j}`);
      if (cfg.downCrossAttention[i]) h = transformer(h, `down_blocks.${i}.attentions.${j}`);
      skips.push(h);
    }
    if (i < levels - 1) {
      h = L.conv(h, `down_blocks.${i}.downsamplers.0.conv`, { stride: 2 });
      skips.push(h);
    }
  }

  h = resnet(h, 'mid_block.resnets.0');
  h = transformer(h, 'mid_block.attentions.0');
  h = resnet(h, 'mid_block.resnets.1');

  for (let i = 0; i < levels; i++) {
    const up = `up_blocks.${i}`;
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      const skip = skips.pop();
      if (!skip) throw new Error('UNet skip connections do not match the block layout');
      h = L.inModule(up, () => g.op('Concat', [h, skip], { axis: 1 }));
      h = resnet(h, `${up}.resnets.${j}`);
      if (L.has(`${up}.attentions.${j}.proj_in.weight`)) h = transformer(h, `${up}.attentions.${j}`);
    }
    if (i < levels - 1) h = upsample(g, L, h, `${up}.upsamplers.0`);
  }

  h = L.conv(L.silu(L.groupNorm(h, 'conv_norm_out', cfg.groups, cfg.normEps), 'conv_act'), 'conv_out');
  g.output(h, 'out_sample', 'float32', ['batch_size', 'num_channels', 'height', 'width']);
  return g.build();
}

/** Upsample2D: nearest-neighbour x2 (as F.interpolate exports it), then a 3x3 conv. */
export function upsample(g: GraphBuilder, L: Layers, x: string, path: string): string {
  const up = L.inModule(path, () =>
    g.op('Resize', [x, '', g.constFloat([1, 1, 2, 2])], {
      coordinate_transformation_mode: 'asymmetric',
      mode: 'nearest',
      nearest_mode: 'floor',
    }),
  );
  return L.conv(up, `${path}.conv`);
}
