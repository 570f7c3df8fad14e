// CLIPTextModel (transformers) as an ONNX graph with the standard export's signature:
// input_ids int32 [batch_size, sequence_length] -> last_hidden_state [B, S, hidden], pooler_output [B, hidden].
// Pre-LayerNorm transformer with quick_gelu, a causal mask, a final LayerNorm; the pooled output is the
// hidden state at argmax(input_ids): SD 1.5's config has eos_token_id 2, for which transformers keeps
// this legacy rule, and it picks the first <|endoftext|> (49407, the largest id in the vocabulary).
import type { WeightTable } from '../checkpoint/weights.ts';
import { GraphBuilder, type OnnxGraph } from './graph-builder.ts';
import { Layers } from './layers.ts';
import type { ClipTextConfig } from './sd15-config.ts';

const FLOAT32_MIN = -3.4028234663852886e38;

export function buildClipTextEncoder(weights: WeightTable, cfg: ClipTextConfig): OnnxGraph {
  const g = new GraphBuilder('text_encoder');
  const L = new Layers(g, weights, 'text_encoder.');
  const ids = g.input('input_ids', 'int32', ['batch_size', 'sequence_length']);
  const headDim = cfg.hiddenSize / cfg.heads;

  const hidden = g.scope('text_model', () => {
    let h = L.inModule('text_model.embeddings', () => {
      const tokens = g.op('Gather', [L.param('text_model.embeddings.token_embedding.weight'), ids], { axis: 0 });
      const seqLen = g.op('Slice', [g.op('Shape', [ids]), g.constInt64([1]), g.constInt64([2])]);
      const positions = g.op('Slice', [L.param('text_model.embeddings.position_embedding.weight'), g.constInt64([0]), seqLen, g.constInt64([0])]);
      return g.op('Add', [tokens, positions]);
    });

    // Causal mask [S, S]: float32 min strictly above the diagonal, 0 elsewhere (added to the scores).
    const mask = g.scope('causal_mask', () => {
      const seqLen = g.op('Slice', [g.op('Shape', [ids]), g.constInt64([1]), g.constInt64([2])]);
      const square = g.op('Concat', [seqLen, seqLen], { axis: 0 });
      const full = g.op('ConstantOfShape', [square], {
        value: { tensor: { name: 'min', type: 'float32', dims: [1], data: { kind: 'bytes', bytes: new Uint8Array(Float32Array.of(FLOAT32_MIN).buffer) } } },
      });
      return g.op('Trilu', [full, g.constInt64([1], [])], { upper: 1 });
    });

    for (let i = 0; i < cfg.layers; i++) {
      const p = `text_model.encoder.layers.${i}`;
      const residual = h;
      const x = L.layerNorm(h, `${p}.layer_norm1`, cfg.layerNormEps);
      const attn = L.inModule(`${p}.self_attn`, () => {
        const q = L.linear(x, `${p}.self_attn.q_proj`);
        const k = L.linear(x, `${p}.self_attn.k_proj`);
        const v = L.linear(x, `${p}.self_attn.v_proj`);
        return L.attention(q, k, v, cfg.heads, headDim, { mask, scaleQuery: true });
      });
      h = g.op('Add', [residual, L.linear(attn, `${p}.self_attn.out_proj`)]);
      const residual2 = h;
      const y = L.linear(L.layerNorm(h, `${p}.layer_norm2`, cfg.layerNormEps), `${p}.mlp.fc1`);
      const act = L.inModule(`${p}.mlp.activation_fn`, () =>
        g.op('Mul', [y, g.op('Sigmoid', [g.op('Mul', [y, g.constFloat([1.702], [])])])]),
      );
      h = g.op('Add', [residual2, L.linear(act, `${p}.mlp.fc2`)]);
    }
    return L.layerNorm(h, 'text_model.final_layer_norm', cfg.layerNormEps);
  });

  const pooled = g.scope('text_model', () => {
    const eos = g.op('ArgMax', [g.op('Cast', [ids], { to: 7 })], { axis: -1, keepdims: 1 });
    return g.op('GatherND', [hidden, eos], { batch_dims: 1 });
  });
  g.output(hidden, 'last_hidden_state', 'float32', ['batch_size', 'sequence_length', cfg.hiddenSize]);
  g.output(pooled, 'pooler_output', 'float32', ['batch_size', cfg.hiddenSize]);
  return g.build();
}
