// Layer helpers shared by the three SD 1.5 graphs. Each helper takes the module path of the layer in
// diffusers/transformers naming ("down_blocks.0.resnets.0.conv1"), reads its weights from the table
// and emits the nodes in that module's scope, in the same layouts torch's export produces:
// Conv weights [out, in, kH, kW], Gemm (2-D input) weights [out, in] with transB=1, and Linear layers on
// 3-D inputs as MatMul with the weight TRANSPOSED to [in, out].
import type { Weight, WeightTable } from '../checkpoint/weights.ts';
import { float32Data, transposedFloat32Data } from '../checkpoint/weights.ts';
import type { GraphBuilder } from './graph-builder.ts';

/** "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q" -> ["down_blocks.0", ..., "to_q"], as torch scopes. */
export function scopeParts(path: string): string[] {
  const parts: string[] = [];
  for (const seg of path.split('.')) {
    if (/^\d+$/.test(seg) && parts.length > 0) parts[parts.length - 1] += `.${seg}`;
    else parts.push(seg);
  }
  return parts;
}

export class Layers {
  private readonly groupConsts = new Map<number, [string, string]>();

  constructor(
    readonly g: GraphBuilder,
    private readonly weights: WeightTable,
    /** Component prefix in the weight table: "unet.", "vae.", "text_encoder.". */
    private readonly prefix: string,
  ) {}

  weight(key: string): Weight {
    const w = this.weights.get(this.prefix + key);
    if (!w) throw new Error(`the checkpoint has no weight ${this.prefix}${key}; is it a complete SD 1.5 checkpoint?`);
    return w;
  }

  has(key: string): boolean {
    return this.weights.get(this.prefix + key) !== undefined;
  }

  shape(key: string): number[] {
    return this.weight(key).shape;
  }

  /** A float32 initializer holding the weight as stored (optionally re-declared with other dims of the same size). */
  param(key: string, dims?: number[]): string {
    const w = this.weight(key);
    return this.g.initializer(key, 'float32', dims ?? w.shape, float32Data(w));
  }

  /** Emits `body`'s nodes in the scope of the module at `path` (absolute, like torch's export). */
  inModule<T>(path: string, body: () => T): T {
    return this.g.atScope(scopeParts(path), body);
  }

  conv(x: string, path: string, opts: { stride?: number } = {}): string {
    const w = this.weight(`${path}.weight`);
    const [kh, kw] = [w.shape[2]!, w.shape[3]!];
    const stride = opts.stride ?? 1;
    const inputs = [x, this.param(`${path}.weight`)];
    if (this.has(`${path}.bias`)) inputs.push(this.param(`${path}.bias`));
    return this.inModule(path, () =>
      this.g.op('Conv', inputs, {
        dilations: [1, 1],
        group: 1,
        kernel_shape: [kh, kw],
        pads: [kh >> 1, kw >> 1, kh >> 1, kw >> 1],
        strides: [stride, stride],
      }),
    );
  }

  /** Linear layer on a 2-D input, as torch exports it: Gemm with transB=1. */
  gemm(x: string, path: string): string {
    const inputs = [x, this.param(`${path}.weight`)];
    if (this.has(`${path}.bias`)) inputs.push(this.param(`${path}.bias`));
    return this.inModule(path, () => this.g.op('Gemm', inputs, { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }));
  }

  /** Linear layer on a 3-D input: MatMul with the weight transposed to [in, out] (+ Add bias). */
  linear(x: string, path: string): string {
    const w = this.weight(`${path}.weight`);
    const [out, inp] = [w.shape[0]!, w.shape[1]!];
    const wt = this.g.initializer(`${path}.weight.transposed`, 'float32', [inp, out], transposedFloat32Data(w));
    const hasBias = this.has(`${path}.bias`);
    const bias = hasBias ? this.param(`${path}.bias`, [out]) : '';
    return this.inModule(path, () => {
      const y = this.g.op('MatMul', [x, wt]);
      return hasBias ? this.g.op('Add', [bias, y]) : y;
    });
  }

  silu(x: string, scope?: string): string {
    const body = () => this.g.op('Mul', [x, this.g.op('Sigmoid', [x])]);
    return scope ? this.inModule(scope, body) : body();
  }

  /** torch.nn.GroupNorm as the export writes it: InstanceNormalization over [B, G, -1], then the affine. */
  groupNorm(x: string, path: string, groups: number, eps: number): string {
    const channels = this.shape(`${path}.weight`)[0]!;
    const gamma = this.param(`${path}.weight`, [channels, 1, 1]);
    const beta = this.param(`${path}.bias`, [channels, 1, 1]);
    let consts = this.groupConsts.get(groups);
    if (!consts) {
      consts = [this.g.constFloat(new Float32Array(groups).fill(1)), this.g.constFloat(new Float32Array(groups))];
      this.groupConsts.set(groups, consts);
    }
    const grouped = this.g.constInt64([0, groups, -1]);
    return this.inModule(path, () => {
      const r = this.g.op('Reshape', [x, grouped]);
      const n = this.g.op('InstanceNormalization', [r, consts[0], consts[1]], { epsilon: { float: eps } });
      const back = this.g.op('Reshape', [n, this.g.op('Shape', [x])]);
      return this.g.op('Add', [this.g.op('Mul', [back, gamma]), beta]);
    });
  }

  layerNorm(x: string, path: string, eps: number): string {
    const inputs = [x, this.param(`${path}.weight`), this.param(`${path}.bias`)];
    return this.inModule(path, () => this.g.op('LayerNormalization', inputs, { axis: -1, epsilon: { float: eps } }));
  }

  /**
   * Multi-head attention of already projected q [B, N, h*d], k and v [B, M, h*d]; returns [B, N, h*d].
   * `mask` (optional) is added to the scores (CLIP's causal mask). `scaleQuery` scales q before the
   * product (CLIP) instead of the scores after it (diffusers' baddbmm alpha); same maths. The
   * standard export's form: the app fuses it into one kernel when it loads the model
   * (onnx/graph-rewrites/attention-fusion.ts), as it does for downloaded exports.
   */
  attention(q: string, k: string, v: string, heads: number, headDim: number, opts: { mask?: string; scaleQuery?: boolean } = {}): string {
    const g = this.g;
    const scale = 1 / Math.sqrt(headDim);
    const split = g.constInt64([0, -1, heads, headDim]);
    const merged = g.constInt64([0, -1, heads * headDim]);
    const scaleConst = g.constFloat([scale], []);
    const qh = g.op('Transpose', [g.op('Reshape', [opts.scaleQuery ? g.op('Mul', [q, scaleConst]) : q, split])], { perm: [0, 2, 1, 3] });
    const kh = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: [0, 2, 3, 1] });
    const vh = g.op('Transpose', [g.op('Reshape', [v, split])], { perm: [0, 2, 1, 3] });
    let scores = g.op('MatMul', [qh, kh]);
    if (!opts.scaleQuery) scores = g.op('Mul', [scores, scaleConst]);
    if (opts.mask) scores = g.op('Add', [scores, opts.mask]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const out = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
    return g.op('Reshape', [out, merged]);
  }
}
