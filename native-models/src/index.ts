// Public API of the inference library. Other areas import from here only.
export { ort } from './onnx/ort.ts';
export { inspectOnnxModel, signatureOf, type OnnxSignature, type OnnxValueInfo } from './onnx/inspect.ts';
export { openSession, ModelSession, checkFeeds, resetProviderFailures, type ModelSource, type SessionOptions, type Feeds } from './onnx/session.ts';
export {
  PROVIDERS,
  isProviderChoice,
  providerCandidates,
  availableBackends,
  missingProviderLibrary,
  type ProviderChoice,
  type ExecutionProvider,
  type ProviderReport,
} from './onnx/providers.ts';
export { floatTensor, integerTensor, readFloats } from './onnx/tensors.ts';
export { loadModelFolder, ModelFolderError, type ModelFolder } from './model/model-folder.ts';
export { ClipTokenizer, CONTEXT_LENGTH, type TokenizedPrompt } from './tokenizer/clip-tokenizer.ts';
export { TorchGenerator, toU64Seed, type Seed } from './rng/torch-generator.ts';
export { LcmScheduler, MIN_STEPS, MAX_STEPS, checkSteps, type LcmStepPlan, type LcmStepResult } from './scheduler/lcm-scheduler.ts';
export { parseSchedulerConfig, type SchedulerConfig } from './scheduler/scheduler-config.ts';
export {
  OnnxTextEncoder,
  OnnxUNet,
  OnnxVaeDecoder,
  type TextEncoder,
  type UNet,
  type VaeDecoder,
  type TimedFloats,
  type PipelineComponent,
} from './pipeline/components.ts';
export { NoiseSource, imageSeeds } from './pipeline/noise.ts';
export {
  resolveRequest,
  randomSeed,
  MAX_BATCH,
  MAX_SIDE,
  type GenerateRequest,
  type ResolvedRequest,
  type ProgressEvent,
  type Stage,
  DECODE_MODES,
  type DecodeMode,
  type PreviewImages,
  type StepTrace,
} from './pipeline/request.ts';
export {
  StableDiffusionPipeline,
  SD15_SCHEDULER_CONFIG,
  SD15_VAE_SCALING_FACTOR,
  LATENT_CHANNELS,
  VAE_SCALE,
  PREVIEW_DECODER_DIR,
  type CfgBatching,
  type PipelineOptions,
  type PipelineParts,
  type PipelineSources,
  type GeneratedImage,
  type GenerationResult,
  type StageTimings,
} from './pipeline/pipeline.ts';
export { encodePng, encodePngAsync, rgbPixels, type DeflateLevel, type PngImage, type PngOptions } from './image/png.ts';
export { vaeOutputToRgb } from './image/to-rgb.ts';
export { floatsToHalf, halfToFloats, toHalfBits, fromHalfBits } from './util/float16.ts';
export { buildTaesdDecoder, randomTaesdWeights, TAESD_CONFIG, type TaesdConfig } from './graph/taesd-decoder.ts';
export type { SessionTuning } from './onnx/session.ts';
