/**
 * The three networks of the pipeline as replaceable objects. The pipeline only knows these
 * interfaces; the ONNX implementations read input/output names and element types from their
 * session, so fp16/fp32 graphs and int32/int64 ids or timesteps all work. A patched UNet (LoRA)
 * or a graph built in memory is just another session wrapped in the same class.
 */
import type { OnnxValueInfo } from '../onnx/inspect.ts';
import type { Feeds, ModelSession } from '../onnx/session.ts';
import { floatTensor, integerTensor, readFloats } from '../onnx/tensors.ts';
import type { ProviderReport } from '../onnx/providers.ts';
import { ExactMemo } from './exact-memo.ts';

export interface TimedFloats {
  data: Float32Array;
  dims: number[];
  /** Milliseconds inside onnxruntime for this call. */
  ortMs: number;
}

export interface PipelineComponent {
  readonly provider: ProviderReport;
  release(): Promise<void>;
}

export interface TextEncoder extends PipelineComponent {
  /** ids: rows of 77 token ids -> last_hidden_state [rows, 77, hidden]. */
  encode(ids: readonly number[][]): Promise<TimedFloats>;
}

export interface UNet extends PipelineComponent {
  /** The declared sample shape (numbers for fixed axes, names for dynamic ones), when known. */
  readonly sampleShape?: ReadonlyArray<number | string>;
  /** Noise prediction for sample [B,4,h,w] at one timestep with encoder_hidden_states [B,77,hidden]. */
  predict(sample: Float32Array, sampleDims: number[], timestep: number, hidden: Float32Array, hiddenDims: number[]): Promise<TimedFloats>;
  /**
   * One prediction per text for the same sample and timestep (a guided step's negative and prompt
   * rows, one call each), in order; the work that does not read the text may be done once.
   */
  predictEach(sample: Float32Array, sampleDims: number[], timestep: number, hiddens: readonly Float32Array[], hiddenDims: number[], signal?: AbortSignal): Promise<TimedFloats[]>;
}

export interface VaeDecoder extends PipelineComponent {
  /** Scaled latents [B,4,h,w] -> image [B,3,8h,8w] roughly in [-1, 1]. */
  decode(latents: Float32Array, dims: number[]): Promise<TimedFloats>;
}

function pickInput(session: ModelSession, names: readonly string[], role: string): OnnxValueInfo {
  const inputs = session.signature.inputs;
  const found = names.map((n) => inputs.find((i) => i.name === n)).find(Boolean);
  if (!found) {
    throw new Error(`${session.label}: expected an input named ${names.map((n) => `"${n}"`).join(' or ')} (${role}); the model has ${inputs.map((i) => `"${i.name}"`).join(', ')}`);
  }
  return found;
}

function pickOutput(session: ModelSession, preferred: string): string {
  const outputs = session.signature.outputs;
  const found = outputs.find((o) => o.name === preferred) ?? outputs[0];
  if (!found) throw new Error(`${session.label}: the model has no outputs`);
  return found.name;
}

function requireFloat(session: ModelSession, input: OnnxValueInfo): void {
  if (!['float32', 'float16'].includes(input.type)) {
    throw new Error(`${session.label}: input "${input.name}" is ${input.type}; expected float32 or float16`);
  }
}

function rejectExtraInputs(session: ModelSession, used: readonly OnnxValueInfo[]): void {
  const extra = session.signature.inputs.filter((i) => !used.some((u) => u.name === i.name));
  if (extra.length > 0) {
    throw new Error(`${session.label}: unexpected inputs ${extra.map((i) => `"${i.name}"`).join(', ')} (not an SD 1.5 export?)`);
  }
}

async function runForFloats(session: ModelSession, feeds: Parameters<ModelSession['run']>[0], output: string): Promise<TimedFloats> {
  const { outputs, ortMs } = await session.run(feeds);
  const tensor = outputs[output]!;
  return { data: readFloats(tensor, `${session.label} output "${output}"`), dims: [...tensor.dims], ortMs };
}

export class OnnxTextEncoder implements TextEncoder {
  private readonly ids: OnnxValueInfo;
  private readonly output: string;

  constructor(readonly session: ModelSession) {
    this.ids = pickInput(session, ['input_ids'], 'token ids');
    if (!['int32', 'int64'].includes(this.ids.type)) {
      throw new Error(`${session.label}: input "input_ids" is ${this.ids.type}; expected int32 or int64`);
    }
    rejectExtraInputs(session, [this.ids]);
    this.output = pickOutput(session, 'last_hidden_state');
  }

  get provider() {
    return this.session.provider;
  }

  encode(rows: readonly number[][]): Promise<TimedFloats> {
    const length = rows[0]?.length ?? 0;
    const feeds = { [this.ids.name]: integerTensor(this.ids.type, rows.flat(), [rows.length, length]) };
    return runForFloats(this.session, feeds, this.output);
  }

  release() {
    return this.session.release();
  }
}

/**
 * A UNet session, or two: with `prefix` (../onnx/graph-rewrites/text-free-prefix.ts), the prefix
 * reads the latents and timestep and `session` reads its outputs and the text embeddings.
 */
export class OnnxUNet implements UNet {
  private readonly sample: OnnxValueInfo;
  private readonly timestep: OnnxValueInfo;
  private readonly hidden: OnnxValueInfo;
  private readonly output: string;
  /**
   * The prefix's outputs of a first step (~21 MB at 512²), reused while only the text changes. Only
   * first steps come again (a seed's noise; later latents depend on the text), and a generation's
   * first step has its highest timestep: a call is kept when its timestep is at least the kept one's.
   */
  private readonly keptPrefix = new ExactMemo<Feeds>(1);
  private keptPrefixTimestep = -Infinity;

  constructor(
    readonly session: ModelSession,
    readonly prefix?: ModelSession,
  ) {
    const front = prefix ?? session;
    this.sample = pickInput(front, ['sample'], 'latents');
    this.timestep = pickInput(front, ['timestep', 'timesteps', 't'], 'timestep');
    this.hidden = pickInput(session, ['encoder_hidden_states'], 'text embeddings');
    requireFloat(front, this.sample);
    requireFloat(session, this.hidden);
    if (!['int64', 'int32', 'float32', 'float16'].includes(this.timestep.type)) {
      throw new Error(`${front.label}: input "${this.timestep.name}" is ${this.timestep.type}; expected int64, int32, float32 or float16`);
    }
    if (this.timestep.shape.length > 1) {
      throw new Error(`${front.label}: input "${this.timestep.name}" has shape [${this.timestep.shape.join(', ')}]; expected a scalar or one axis`);
    }
    if (prefix) {
      rejectExtraInputs(prefix, [this.sample, this.timestep]);
      rejectExtraInputs(session, [this.hidden, ...prefix.signature.outputs]);
    } else {
      rejectExtraInputs(session, [this.sample, this.timestep, this.hidden]);
    }
    this.output = pickOutput(session, 'out_sample');
  }

  get provider() {
    return this.session.provider;
  }

  get sampleShape(): ReadonlyArray<number | string> {
    return this.sample.shape;
  }

  /** optimum exports the timestep with one dynamic axis: [1] broadcasts; a "batch" axis wants one per row. */
  private timestepDims(batch: number): number[] {
    const shape = this.timestep.shape;
    if (shape.length === 0) return [];
    const dim = shape[0]!;
    if (typeof dim === 'number') return [dim];
    return /batch/i.test(dim) ? [batch] : [1];
  }

  async predict(sample: Float32Array, sampleDims: number[], timestep: number, hidden: Float32Array, hiddenDims: number[]): Promise<TimedFloats> {
    return (await this.predictEach(sample, sampleDims, timestep, [hidden], hiddenDims))[0]!;
  }

  async predictEach(sample: Float32Array, sampleDims: number[], timestep: number, hiddens: readonly Float32Array[], hiddenDims: number[], signal?: AbortSignal): Promise<TimedFloats[]> {
    const dims = this.timestepDims(sampleDims[0]!);
    const count = dims.reduce((a, b) => a * b, 1);
    let feeds: Parameters<ModelSession['run']>[0] = {
      [this.sample.name]: floatTensor(this.sample.type, sample, sampleDims),
      [this.timestep.name]: integerTensor(this.timestep.type, new Array<number>(count).fill(timestep), dims),
    };
    let prefixMs = 0;
    if (this.prefix) {
      const key = { timestep, dims: sampleDims, inputs: [sample] };
      const kept = this.keptPrefix.find(key);
      if (kept) {
        feeds = kept;
      } else {
        const shared = await this.prefix.run(feeds);
        feeds = shared.outputs;
        prefixMs = shared.ortMs;
        if (timestep >= this.keptPrefixTimestep) {
          this.keptPrefix.remember(key, shared.outputs);
          this.keptPrefixTimestep = timestep;
        }
      }
    }
    const results: TimedFloats[] = [];
    for (const hidden of hiddens) {
      signal?.throwIfAborted();
      const out = await runForFloats(this.session, { ...feeds, [this.hidden.name]: floatTensor(this.hidden.type, hidden, hiddenDims) }, this.output);
      results.push(results.length === 0 ? { ...out, ortMs: out.ortMs + prefixMs } : out);
    }
    return results;
  }

  async release() {
    await Promise.all([this.session.release(), this.prefix?.release()]);
  }
}

export class OnnxVaeDecoder implements VaeDecoder {
  private readonly latents: OnnxValueInfo;
  private readonly output: string;

  constructor(readonly session: ModelSession) {
    this.latents = pickInput(session, ['latent_sample', 'latents', 'z'], 'latents');
    requireFloat(session, this.latents);
    rejectExtraInputs(session, [this.latents]);
    this.output = pickOutput(session, 'sample');
  }

  get provider() {
    return this.session.provider;
  }

  decode(latents: Float32Array, dims: number[]): Promise<TimedFloats> {
    return runForFloats(this.session, { [this.latents.name]: floatTensor(this.latents.type, latents, dims) }, this.output);
  }

  release() {
    return this.session.release();
  }
}
