/**
 * Prompt -> images through text encoder, UNet with LCM sampling, and VAE decoder, reproducing
 * diffusers' StableDiffusionPipeline + LCMScheduler (same tokens, noise draws, CFG batching and
 * float32 rounding). Sessions live as long as the pipeline and are reused across generate() calls.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodePng, rgbPixels } from '../image/png.ts';
import { vaeOutputToRgb } from '../image/to-rgb.ts';
import { loadModelFolder, type ModelFolder } from '../model/model-folder.ts';
import { openSession, type ModelSession, type ModelSource, type SessionOptions, type SessionTuning } from '../onnx/session.ts';
import type { ProviderReport } from '../onnx/providers.ts';
import { attentionFor, type UnetAttention, type UnetForm } from '../onnx/graph-rewrites/unet-graph.ts';
import { vaeSource, type VaeConvolutions } from '../onnx/graph-rewrites/vae-convolutions.ts';
import { precisionFor, type Precision } from '../onnx/graph-rewrites/half-precision.ts';
import { collectGarbage } from '../util/collect-garbage.ts';
import { f32 } from '../rng/float32-math.ts';
import { LcmScheduler } from '../scheduler/lcm-scheduler.ts';
import { parseSchedulerConfig, SD15_SCHEDULER_CONFIG } from '../scheduler/scheduler-config.ts';

export { SD15_SCHEDULER_CONFIG };
import { ClipTokenizer, type TokenizedPrompt } from '../tokenizer/clip-tokenizer.ts';
import { OnnxTextEncoder, OnnxVaeDecoder, type TextEncoder, type TimedFloats, type UNet, type VaeDecoder } from './components.ts';
import { checkSampleShape, guide, stackRows, VAE_SCALE } from './guidance.ts';
import { openUnet } from './open-unet.ts';
import { NoiseSource, imageSeeds } from './noise.ts';
import { ExactMemo } from './exact-memo.ts';

export { VAE_SCALE };
import { resolveRequest, type GenerateRequest, type PreviewImages, type ResolvedRequest } from './request.ts';

/**
 * How a guided step runs the UNet: one call on the [uncond, cond] batch as diffusers does, or two
 * calls of half the batch (same maths). On CPU the split is never slower (SD 1.5 at 512², 2 cores:
 * on a loaded machine batch 2 took 20.1 s, two batch-1 calls 12.4 s; on a quiet one, with fused
 * attention, a tie at 6.44 vs 6.49 s), and split calls share the UNet's text-free prefix (one run
 * for both, 0.95x the pair's time); 'auto' picks split on CPU, batched elsewhere. A split step whose
 * latents, timestep and negative text were seen before runs only the prompt's half
 * (./exact-memo.ts): the first step of every picture while the prompt is edited, seed fixed.
 */
export type CfgBatching = 'auto' | 'batched' | 'split';

/** Folder (beside unet/, vae_decoder/) where an optional preview decoder (TAESD) is found. */
export const PREVIEW_DECODER_DIR = 'taesd_decoder';

export const LATENT_CHANNELS = 4;

export interface PipelineParts {
  tokenizer: ClipTokenizer;
  scheduler: LcmScheduler;
  textEncoder: TextEncoder;
  unet: UNet;
  vaeDecoder: VaeDecoder;
  /** A fast approximate decoder (TAESD) taking the UNet's latents unscaled; optional. */
  previewDecoder?: VaeDecoder;
  /** Default 'batched' (diffusers' layout). */
  cfgBatching?: Exclude<CfgBatching, 'auto'>;
  /** How the VAE decoder's session computes its big convolutions (reported by the benchmark). */
  vaeConvolutions?: VaeConvolutions;
  /** The form the UNet's graphs run in (reported by the benchmark; LoRA-patched UNets take the same). */
  unetForm?: UnetForm;
  /** The VAE decoder's arithmetic (reported by the benchmark). */
  vaePrecision?: Precision;
  /** SD 1.5: 0.18215. */
  vaeScalingFactor: number;
  /** Pixel sizes must be multiples of this (SD 1.5: 64, from 3 UNet downsamplings and the VAE's 8). */
  sizeMultiple: number;
}

export const SD15_VAE_SCALING_FACTOR = 0.18215;

/**
 * Every session's memory settings unless told otherwise: onnxruntime's CPU arena (it reuses freed
 * blocks between runs) without the memory pattern (one planned block per run, which took the VAE
 * decoder's own peak from 2.0 to 3.0 GiB for no measured gain). Measured on SD 1.5 at 512², 1 step,
 * guidance 1.5, 2-core CPU, 3.84 GiB of weights: process peak 5.5-5.6 GiB (1.44-1.46x), UNet 6.2 s,
 * VAE 7.9-8.1 s. Without the arena for the text encoder and UNet (LEAN_TUNING there): 5.8-6.2 GiB
 * and UNet 6.4 s, as every run's buffers then come from malloc, which fragments; with
 * onnxruntime's defaults everywhere: 6.5 GiB (1.69x).
 */
export const DEFAULT_TUNING: SessionTuning = { cpuMemArena: true, memPattern: false };
/**
 * Low memory (Settings → Memory → Low): no arena, no memory pattern, for every session. With the
 * direct VAE convolutions: 4.9 GiB (1.27x), VAE 12.5 s instead of 7.9 s.
 */
export const LEAN_TUNING: SessionTuning = { cpuMemArena: false, memPattern: false };
export const ORT_DEFAULT_TUNING: SessionTuning = { cpuMemArena: true, memPattern: true, prepacking: true };

export interface PipelineOptions extends SessionOptions {
  /** For every session; default DEFAULT_TUNING. */
  tuning?: SessionTuning;
  /** Default 'auto' (split on CPU, batched on GPU providers). */
  cfgBatching?: CfgBatching;
  /**
   * The VAE decoder's big 3x3 convolutions: 'fast' rewrites them with fewer multiplications
   * (onnx/graph-rewrites: Winograd F(4x4, 3x3) and upsample convs as 2x2 phases; 0.81x the
   * decoder's time on CPU, same image within float rounding), 'direct' keeps the model's. Default
   * 'auto': 'fast' when the UNet runs on CPU (GPU providers pick their own convolution algorithms).
   */
  vaeConvolutions?: 'auto' | VaeConvolutions;
  /**
   * The UNet's attention: 'fused' rewrites the export's head split, scores, softmax and head merge
   * into one MultiHeadAttention node (onnx/graph-rewrites; 0.93x the UNet's time on CPU, same
   * prediction within float rounding), 'exported' keeps the graph. Default 'auto': fused on every
   * provider but CoreML and WebGPU (onnx/graph-rewrites/unet-graph.ts says why).
   */
  unetAttention?: 'auto' | UnetAttention;
  /**
   * The UNet's layers for the CPU: 'fast' computes each upsample convolution as four 2x2 phase
   * convolutions on the small map and GEGLU's projection as two halves (onnx/graph-rewrites; 0.96x
   * the UNet's time on CPU, same prediction within float rounding), 'exported' keeps the model's.
   * Default 'auto': 'fast' on CPU.
   */
  unetLayers?: 'auto' | UnetForm['layers'];
  /**
   * The UNet's and VAE decoder's arithmetic: 'float16' runs it in half precision with float32
   * inputs and outputs (onnx/graph-rewrites/half-precision.ts; the weights stay float32 in the
   * files and are halved when the session loads). Default 'auto': float16 on CUDA, DirectML and
   * WebGPU, float32 on the CPU and CoreML. The text encoder stays float32.
   */
  precision?: 'auto' | Precision;
}

export interface PipelineSources {
  textEncoder: ModelSource;
  unet: ModelSource;
  vaeDecoder: ModelSource;
  previewDecoder?: ModelSource;
  tokenizer: ClipTokenizer;
  /** scheduler_config.json contents; default SD15_SCHEDULER_CONFIG. */
  schedulerConfig?: unknown;
  /** Default 0.18215. */
  vaeScalingFactor?: number;
  /** len(block_out_channels) of the UNet; default 4 (SD 1.5). */
  unetDownBlocks?: number;
}

export interface GeneratedImage {
  index: number;
  seed: bigint;
  width: number;
  height: number;
  /** RGB, 8 bits per channel, rows top to bottom. */
  rgb: Uint8Array;
  png: Uint8Array | null;
}

export interface StageTimings {
  textMs: number;
  /** Drawing the initial latents (torch-exact randn). */
  noiseMs: number;
  /** Wall time of each UNet call (one per step). */
  unetMs: number[];
  /** LCM updates and noise draws between UNet calls. */
  schedulerMs: number;
  vaeMs: number;
  /** Preview decoder, 0 when it did not run. */
  previewMs: number;
  /** From the call to the first picture: the preview's, or the full decoder's when no preview ran. */
  firstPictureMs: number;
  pngMs: number;
  totalMs: number;
  /** Of totalMs, the time spent inside onnxruntime's run(). */
  ortMs: number;
}

export interface GenerationResult {
  request: ResolvedRequest;
  images: GeneratedImage[];
  tokens: {
    cond: number[];
    uncond: number[] | null;
    dropped: number;
    negativeDropped: number;
  };
  latents: { shape: number[]; initial: Float32Array; final: Float32Array };
  timesteps: number[];
  /** The preview decoder's pictures, when the request asked for a preview. */
  preview: PreviewImages | null;
  provider: ProviderReport;
  timings: StageTimings;
}

/** Prompts whose embeddings are kept: re-rolling a prompt with new seeds skips the text encoder. */
const TEXT_CACHE_SIZE = 8;

export class StableDiffusionPipeline {
  private parts: PipelineParts;
  private readonly textCache = new Map<string, { data: Float32Array; dims: number[] }>();
  /**
   * Unconditional halves of guided first steps, reused while only the prompt changes (split
   * guidance; a batch-2 call's halves could differ from a batch-1 call's in the last bit). A few
   * entries: one per seed and size the user moves between, ~0.4 MB each at 512².
   */
  private readonly uncondPredictions = new ExactMemo<Float32Array>(4);

  constructor(parts: PipelineParts) {
    this.parts = parts;
  }

  /**
   * Opens the three sessions of a model folder on the chosen provider (CPU fallback). `replace`
   * swaps in other graphs for some components (a path or bytes, e.g. a LoRA-patched UNet).
   */
  static async fromFolder(
    dirOrFolder: string | ModelFolder,
    options: PipelineOptions & { replace?: Partial<Record<'textEncoder' | 'unet' | 'vaeDecoder' | 'previewDecoder', ModelSource>> } = {},
  ): Promise<StableDiffusionPipeline> {
    const folder = typeof dirOrFolder === 'string' ? loadModelFolder(dirOrFolder) : dirOrFolder;
    const { replace, ...sessionOptions } = options;
    const previewPath = join(folder.dir, PREVIEW_DECODER_DIR, 'model.onnx');
    const previewDecoder = replace?.previewDecoder ?? (existsSync(previewPath) ? previewPath : undefined);
    return StableDiffusionPipeline.fromSources(
      {
        textEncoder: replace?.textEncoder ?? folder.textEncoder,
        unet: replace?.unet ?? folder.unet,
        vaeDecoder: replace?.vaeDecoder ?? folder.vaeDecoder,
        ...(previewDecoder ? { previewDecoder } : {}),
        tokenizer: ClipTokenizer.fromFolder(folder.tokenizerDir),
        schedulerConfig: folder.schedulerConfig,
        vaeScalingFactor: folder.vaeScalingFactor,
        unetDownBlocks: folder.unetDownBlocks,
      },
      sessionOptions,
    );
  }

  /** Builds a pipeline from graphs given as paths or bytes (e.g. converted in memory from a checkpoint). */
  static async fromSources(sources: PipelineSources, options: PipelineOptions = {}): Promise<StableDiffusionPipeline> {
    const pipeline = await StableDiffusionPipeline.open(sources, options);
    // The rewritten graphs' bytes are the sessions' copies only now (out of scope here): free ours.
    collectGarbage();
    return pipeline;
  }

  private static async open(sources: PipelineSources, options: PipelineOptions): Promise<StableDiffusionPipeline> {
    const { cfgBatching = 'auto', vaeConvolutions = 'auto', unetAttention = 'auto', unetLayers = 'auto', precision = 'auto', tuning, ...sessionOptions } = options;
    const sessionTuning = tuning ?? DEFAULT_TUNING;
    const labelOf = (source: ModelSource, fallback: string) => (typeof source === 'string' ? source : fallback);
    const opened: ModelSession[] = [];
    const open = async (source: ModelSource, label: string, externalDataDir?: string) => {
      const session = await openSession(source, { ...sessionOptions, tuning: sessionTuning, label: labelOf(source, label), ...(externalDataDir ? { externalDataDir } : {}) });
      opened.push(session);
      return session;
    };
    try {
      const textEncoder = new OnnxTextEncoder(await open(sources.textEncoder, 'text_encoder (bytes)'));
      // The provider the text encoder got is the one the others get (a provider that failed to
      // start is skipped for the process), so it picks the forms that suit it before they open.
      const onCpu = textEncoder.provider.used === 'cpu';
      const batching = cfgBatching === 'auto' ? (onCpu ? 'split' : 'batched') : cfgBatching;
      const arithmetic = precisionFor(precision, textEncoder.provider.used);
      const wanted: UnetForm = {
        attention: attentionFor(unetAttention, textEncoder.provider.used),
        layers: unetLayers === 'auto' ? (onCpu ? 'fast' : 'exported') : unetLayers,
        sharedPrefix: batching === 'split',
        precision: arithmetic,
      };
      const unetLabel = labelOf(sources.unet, 'unet (bytes)');
      const { unet, form: unetForm } = await openUnet(sources.unet, wanted, (g, part) => open(g.source, unetLabel + part, g.externalDataDir));
      const vae = await vaeSource(sources.vaeDecoder, vaeConvolutions === 'auto' ? (onCpu ? 'fast' : 'direct') : vaeConvolutions, arithmetic);
      const vaeDecoder = new OnnxVaeDecoder(await open(vae.source, labelOf(sources.vaeDecoder, 'vae_decoder (bytes)'), vae.externalDataDir));
      const previewDecoder = sources.previewDecoder ? new OnnxVaeDecoder(await open(sources.previewDecoder, 'taesd_decoder (bytes)')) : undefined;
      return new StableDiffusionPipeline({
        tokenizer: sources.tokenizer,
        scheduler: new LcmScheduler(parseSchedulerConfig(sources.schedulerConfig ?? SD15_SCHEDULER_CONFIG)),
        textEncoder,
        unet,
        vaeDecoder,
        ...(previewDecoder ? { previewDecoder } : {}),
        cfgBatching: batching,
        vaeConvolutions: vae.form,
        unetForm,
        vaePrecision: vae.precision,
        vaeScalingFactor: sources.vaeScalingFactor ?? SD15_VAE_SCALING_FACTOR,
        sizeMultiple: VAE_SCALE * 2 ** ((sources.unetDownBlocks ?? 4) - 1),
      });
    } catch (e) {
      await Promise.all(opened.map((s) => s.release()));
      throw e;
    }
  }

  get components(): Readonly<PipelineParts> {
    return this.parts;
  }

  /** Swaps the UNet (e.g. a LoRA-patched session) and returns the previous one; the caller releases it. */
  replaceUnet(unet: UNet): UNet {
    const previous = this.parts.unet;
    this.parts = { ...this.parts, unet };
    if (unet !== previous) this.uncondPredictions.clear();
    return previous;
  }

  /** Swaps the preview decoder (e.g. the shared TAESD) and returns the previous one; the caller releases it. */
  replacePreviewDecoder(previewDecoder: VaeDecoder | undefined): VaeDecoder | undefined {
    const previous = this.parts.previewDecoder;
    this.parts = { ...this.parts, previewDecoder };
    return previous;
  }

  replaceTextEncoder(textEncoder: TextEncoder): TextEncoder {
    const previous = this.parts.textEncoder;
    this.parts = { ...this.parts, textEncoder };
    // The app re-applies the same encoder before every generation: keep the cache then.
    if (textEncoder !== previous) this.textCache.clear();
    return previous;
  }

  /** last_hidden_state [1,77,D] for one prompt's ids, from the cache when the same ids ran recently. */
  private async embed(ids: number[]): Promise<{ data: Float32Array; dims: number[]; ortMs: number }> {
    const key = ids.join(',');
    const cached = this.textCache.get(key);
    if (cached) {
      this.textCache.delete(key); // re-insert: most recently used last
      this.textCache.set(key, cached);
      return { ...cached, ortMs: 0 };
    }
    const encoder = this.parts.textEncoder;
    const out = await encoder.encode([ids]);
    // An encoder swapped in meanwhile (another LoRA) must not find this embedding in its cache.
    if (this.parts.textEncoder !== encoder) return out;
    this.textCache.set(key, { data: out.data, dims: out.dims });
    if (this.textCache.size > TEXT_CACHE_SIZE) this.textCache.delete(this.textCache.keys().next().value!);
    return out;
  }

  async release(): Promise<void> {
    this.textCache.clear();
    this.uncondPredictions.clear();
    const { textEncoder, unet, vaeDecoder, previewDecoder } = this.parts;
    await Promise.all([textEncoder.release(), unet.release(), vaeDecoder.release(), previewDecoder?.release()]);
  }

  async generate(input: GenerateRequest): Promise<GenerationResult> {
    const started = performance.now();
    const req = resolveRequest(input, this.parts.sizeMultiple);
    const { tokenizer, scheduler, unet, vaeDecoder, previewDecoder, vaeScalingFactor, cfgBatching } = this.parts;
    if (req.decode !== 'full' && !previewDecoder) {
      throw new Error(`decode "${req.decode}" needs a preview decoder: put TAESD's decoder at <model>/${PREVIEW_DECODER_DIR}/model.onnx, or use decode "full"`);
    }
    const signal = input.signal;
    const progress = input.onProgress ?? (() => {});
    const batch = req.batchSize;
    const cfg = req.guidance > 1;
    let ortMs = 0;
    const split = cfg && (cfgBatching ?? 'batched') === 'split';
    checkSampleShape(unet.sampleShape, [cfg && !split ? 2 * batch : batch, LATENT_CHANNELS, req.height / VAE_SCALE, req.width / VAE_SCALE]);
    signal?.throwIfAborted();

    // Text: one encoder row per distinct prompt; the UNet batch repeats them (uncond rows first).
    progress({ stage: 'text', step: 0, totalSteps: req.steps });
    const textStart = performance.now();
    const cond: TokenizedPrompt = tokenizer.encode(req.prompt);
    const uncond: TokenizedPrompt | null = cfg ? tokenizer.encode(req.negativePrompt) : null;
    const condOut = await this.embed(cond.ids);
    ortMs += condOut.ortMs;
    const [, seqLen, hiddenSize] = condOut.dims as [number, number, number];
    const rowSize = seqLen * hiddenSize;
    const rows: Float32Array[] = [];
    if (uncond) {
      const uncondOut = await this.embed(uncond.ids);
      ortMs += uncondOut.ortMs;
      for (let i = 0; i < batch; i++) rows.push(uncondOut.data);
    }
    for (let i = 0; i < batch; i++) rows.push(condOut.data);
    const hidden = stackRows(rows, rowSize);
    const hiddenDims = [rows.length, seqLen, hiddenSize];
    const halfDims = [batch, seqLen, hiddenSize];
    const uncondHidden = split ? hidden.subarray(0, batch * rowSize) : hidden;
    const condHidden = split ? hidden.subarray(batch * rowSize) : hidden;
    const textMs = performance.now() - textStart;

    // Latents.
    const latentH = req.height / VAE_SCALE;
    const latentW = req.width / VAE_SCALE;
    const perImage = [LATENT_CHANNELS, latentH, latentW];
    const latentShape = [batch, ...perImage];
    const latentSize = latentShape.reduce((a, b) => a * b, 1);
    const noiseStart = performance.now();
    const noise = new NoiseSource(req.seed, batch, req.sharedNoise);
    const initial = noise.draw(perImage);
    if (scheduler.initNoiseSigma !== 1) for (let i = 0; i < initial.length; i++) initial[i] = f32(initial[i]! * scheduler.initNoiseSigma);
    let latents = initial;
    const noiseMs = performance.now() - noiseStart;

    const plan = scheduler.plan(req.steps);
    const unetMs: number[] = [];
    let schedulerMs = 0;
    const reused = input.finalLatents;
    if (reused && reused.length !== latentSize) {
      throw new Error(`finalLatents hold ${reused.length} values; these settings need ${latentSize} ([${latentShape.join(', ')}])`);
    }
    if (reused) latents = reused;
    for (const step of reused ? [] : plan) {
      signal?.throwIfAborted();
      progress({ stage: 'unet', step: step.index + 1, totalSteps: req.steps });
      const unetStart = performance.now();
      const sample = cfg ? stackRows([latents, latents], latentSize) : latents;
      const sampleDims = [cfg ? 2 * batch : batch, ...perImage];
      let out: { data: Float32Array; ortMs: number };
      // Only a first step's inputs come again (the seed's noise); later latents depend on the prompt.
      const uncondKey = split && step.index === 0 ? { timestep: step.timestep, dims: latentShape, inputs: [latents, uncondHidden] } : undefined;
      const keptUncond = uncondKey && this.uncondPredictions.find(uncondKey);
      if (keptUncond) {
        // Only the prompt changed since this step's inputs were last seen: its half alone.
        const c = await unet.predict(latents, latentShape, step.timestep, condHidden, halfDims);
        out = { data: stackRows([keptUncond, c.data], latentSize), ortMs: c.ortMs };
      } else if (split) {
        // Same rows as the batched call ([uncond, cond]), run one half at a time.
        const [u, c] = (await unet.predictEach(latents, latentShape, step.timestep, [uncondHidden, condHidden], halfDims, signal)) as [TimedFloats, TimedFloats];
        if (uncondKey) this.uncondPredictions.remember(uncondKey, u.data.slice());
        out = { data: stackRows([u.data, c.data], latentSize), ortMs: u.ortMs + c.ortMs };
      } else {
        out = await unet.predict(sample, sampleDims, step.timestep, hidden, hiddenDims);
      }
      ortMs += out.ortMs;
      unetMs.push(performance.now() - unetStart);

      const schedStart = performance.now();
      const noisePred = cfg ? guide(out.data, latentSize, req.guidance) : out.data;
      const stepNoise = step.addsNoise ? noise.draw(perImage) : undefined;
      const { prevSample, denoised } = scheduler.step(step, noisePred, latents, stepNoise);
      input.onStep?.({
        index: step.index,
        timestep: step.timestep,
        unetSample: sample,
        unetOutput: out.data,
        noisePred,
        denoised,
        noise: stepNoise ?? null,
        latents: prevSample,
      });
      latents = prevSample;
      schedulerMs += performance.now() - schedStart;
    }

    let preview: PreviewImages | null = null;
    let previewMs = 0;
    let firstPictureMs = 0;
    if (req.decode !== 'full' && previewDecoder) {
      signal?.throwIfAborted();
      const previewStart = performance.now();
      // TAESD decodes the UNet's latents as they are (its scaling factor is 1).
      const decoded = await previewDecoder.decode(latents, latentShape);
      ortMs += decoded.ortMs;
      const [, , h, w] = decoded.dims as [number, number, number, number];
      preview = { width: w, height: h, rgb: vaeOutputToRgb(decoded.data, decoded.dims) };
      previewMs = performance.now() - previewStart;
      firstPictureMs = performance.now() - started;
      progress({ stage: 'preview', step: req.steps, totalSteps: req.steps, preview });
      await input.onPreview?.(preview);
    }

    let vaeMs = 0;
    let decodedImages: { rgbs: Uint8Array[]; width: number; height: number };
    if (req.decode === 'preview' && preview) {
      decodedImages = { rgbs: preview.rgb, width: preview.width, height: preview.height };
    } else {
      signal?.throwIfAborted();
      progress({ stage: 'vae', step: req.steps, totalSteps: req.steps });
      const vaeStart = performance.now();
      const scale = f32(vaeScalingFactor);
      const vaeInput = latents.map((v) => f32(v / scale));
      const decoded = await vaeDecoder.decode(vaeInput, latentShape);
      ortMs += decoded.ortMs;
      const [, , imageH, imageW] = decoded.dims as [number, number, number, number];
      decodedImages = { rgbs: vaeOutputToRgb(decoded.data, decoded.dims), width: imageW, height: imageH };
      vaeMs = performance.now() - vaeStart;
      if (!preview) firstPictureMs = performance.now() - started;
    }
    const { rgbs, width: imageW, height: imageH } = decodedImages;

    const pngStart = performance.now();
    const seeds = req.sharedNoise ? rgbs.map(() => req.seed) : imageSeeds(req.seed, batch);
    const pngOption = input.png ?? true;
    if (pngOption !== false) progress({ stage: 'png', step: req.steps, totalSteps: req.steps });
    const images: GeneratedImage[] = rgbs.map((rgb, index) => {
      const seed = seeds[index]!;
      const image = { index, seed, width: imageW, height: imageH, rgb, png: null as Uint8Array | null };
      if (pngOption !== false) {
        const textOption = pngOption === true ? undefined : pngOption.text;
        const text = typeof textOption === 'function' ? textOption({ seed, index }) : textOption;
        image.png = encodePng(rgbPixels(rgb, imageW, imageH), { text });
      }
      return image;
    });
    const pngMs = performance.now() - pngStart;

    return {
      request: req,
      images,
      tokens: {
        cond: cond.ids,
        uncond: uncond?.ids ?? null,
        dropped: cond.dropped,
        negativeDropped: uncond?.dropped ?? 0,
      },
      latents: { shape: latentShape, initial, final: latents },
      timesteps: plan.map((s) => s.timestep),
      preview,
      provider: unet.provider,
      timings: { textMs, noiseMs, unetMs, schedulerMs, vaeMs, previewMs, firstPictureMs, pngMs, totalMs: performance.now() - started, ortMs },
    };
  }
}
