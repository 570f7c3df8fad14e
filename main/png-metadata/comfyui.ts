// ComfyUI stores its API graph as JSON in a `prompt` text chunk: { nodeId: { class_type, inputs } },
// where an input is a value or a link [nodeId, outputIndex]. We follow the sampler's links to the
// text encoders, the empty latent and the checkpoint (through any LoRA loaders).

type Link = [string, number];
interface ComfyNode {
  class_type?: string;
  inputs?: Record<string, unknown>;
}
type Graph = Record<string, ComfyNode>;

export interface ComfyParameters {
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  cfg?: number;
  sampler?: string;
  width?: number;
  height?: number;
  batchSize?: number;
  checkpoint?: string;
  loras: Array<{ name: string; scale: number }>;
}

const isLink = (v: unknown): v is Link => Array.isArray(v) && v.length === 2 && typeof v[0] !== 'object';
const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom']);

function follow(graph: Graph, value: unknown): ComfyNode | undefined {
  return isLink(value) ? graph[String(value[0])] : undefined;
}

/** Text of an encoder input: a literal, or a link to a primitive/string node. */
function textOf(graph: Graph, node: ComfyNode | undefined, depth = 0): string | undefined {
  if (!node?.inputs || depth > 8) return undefined;
  for (const key of ['text', 'text_g', 'string', 'value', 'prompt']) {
    const v = node.inputs[key];
    if (typeof v === 'string') return v;
    if (isLink(v)) return textOf(graph, follow(graph, v), depth + 1);
  }
  return undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function parseComfyPrompt(json: string): ComfyParameters | null {
  let graph: Graph;
  try {
    const parsed: unknown = JSON.parse(json);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    graph = parsed as Graph;
  } catch {
    return null;
  }
  const samplers = Object.values(graph).filter((n) => SAMPLERS.has(n.class_type ?? ''));
  // A hires-fix graph has two samplers; the first pass is the one fed by an empty latent.
  const sampler =
    samplers.find((n) => follow(graph, n.inputs?.latent_image)?.class_type?.startsWith('EmptyLatent')) ?? samplers[0];
  if (!sampler?.inputs) return null;
  const inputs = sampler.inputs;
  const result: ComfyParameters = {
    prompt: textOf(graph, follow(graph, inputs.positive)),
    negativePrompt: textOf(graph, follow(graph, inputs.negative)),
    seed: num(inputs.seed) ?? num(inputs.noise_seed),
    steps: num(inputs.steps),
    cfg: num(inputs.cfg),
    sampler: typeof inputs.sampler_name === 'string' ? inputs.sampler_name : undefined,
    loras: [],
  };
  const latent = follow(graph, inputs.latent_image);
  if (latent?.inputs) {
    result.width = num(latent.inputs.width);
    result.height = num(latent.inputs.height);
    result.batchSize = num(latent.inputs.batch_size);
  }
  let model = follow(graph, inputs.model);
  for (let depth = 0; model && depth < 16; depth++) {
    const mi = model.inputs ?? {};
    if (typeof mi.lora_name === 'string') {
      result.loras.unshift({ name: mi.lora_name, scale: num(mi.strength_model) ?? 1 });
    }
    if (typeof mi.ckpt_name === 'string') {
      result.checkpoint = mi.ckpt_name;
      break;
    }
    model = follow(graph, mi.model);
  }
  return result;
}
