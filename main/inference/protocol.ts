// The typed messages between the main side and the inference process. Both ends validate what
// they receive with these schemas: a process boundary is an outside boundary (a crashed or
// mismatched worker must produce a clear error, not an undefined field deep in the queue).
import { z } from 'zod';
import { MemoryMode } from '../contract/api.ts';
import { GenerationRequest } from '../contract/generation.ts';

const Id = z.string().min(1);

/**
 * Environment variable naming the folder where the inference process keeps onnxruntime's optimised
 * CPU graphs (native-models/src/onnx/graph-cache.ts); unset: no cache.
 */
export const GRAPH_CACHE_ENV = 'YOSO_GRAPH_CACHE';

/** Where the worker finds the files of one generation; the main side resolves ids to paths. */
export const ResolvedModels = z.object({
  /** Absolute path of the base model folder (optimum ONNX layout). */
  baseDir: z.string().min(1),
  /** Absolute path of the LoRA file, when the request names one. */
  loraPath: z.string().min(1).nullable(),
  /**
   * Absolute path of the preview decoder (TAESD) graph when this job shows a quick preview before the
   * full image (Settings.preview and a decoder installed); null or absent: the full decoder only.
   */
  previewDecoderPath: z.string().min(1).nullable().optional(),
});
export type ResolvedModels = z.infer<typeof ResolvedModels>;

export const ToWorker = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('generate'),
    id: Id,
    request: GenerationRequest,
    models: ResolvedModels,
    /** Execution provider preference from the settings ('auto' lets the worker pick). */
    provider: z.string(),
    /** Live preview: decode with the preview decoder only (the full decoder without one), send it as a preview, no images. */
    previewOnly: z.boolean().optional(),
    /** Settings.memory: session memory settings of the pipeline (default normal). */
    memory: MemoryMode.optional(),
  }),
  z.object({ type: z.literal('cancel'), id: Id }),
  /**
   * Loads a base model (and LoRA) ahead of the first generate, while the UI is usable: the sessions
   * of a full SD 1.5 take seconds to open. Queued like a generate; a failure is only logged (the
   * generate that needs the model reports it).
   */
  z.object({ type: z.literal('prepare'), models: ResolvedModels, loraScale: z.number().nullable(), provider: z.string(), memory: MemoryMode.optional() }),
  /** Drops cached sessions of a model folder (before the model library deletes it). */
  z.object({ type: z.literal('release'), baseDir: z.string().min(1) }),
]);
export type ToWorker = z.input<typeof ToWorker>;

export const FromWorker = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    pid: z.number().int(),
    /** Execution providers this build of onnxruntime can use on this machine. */
    providers: z.array(z.string()),
  }),
  z.object({
    type: z.literal('progress'),
    id: Id,
    stage: z.string(),
    step: z.number().int(),
    steps: z.number().int(),
  }),
  z.object({
    type: z.literal('image'),
    id: Id,
    batchIndex: z.number().int().nonnegative(),
    seed: z.number().int().nonnegative(),
    /**
     * The image and its thumbnail as PNG (history/encode-image.ts), encoded here so the main
     * event loop only adds the metadata chunks and writes the files.
     */
    png: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'png must be bytes'),
    thumbnailPng: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'thumbnailPng must be bytes'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z.union([z.literal(3), z.literal(4)]),
    /** Provider and stage timings of the run that made it (the history row keeps them). */
    provider: z.string(),
    timingsMs: z.record(z.string(), z.number()),
  }),
  z.object({
    type: z.literal('preview'),
    id: Id,
    batchIndex: z.number().int().nonnegative(),
    /** The preview decoder's picture, encoded here (fast PNG) so the main loop only forwards it. */
    png: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'png must be bytes'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Milliseconds from the start of the generation to this picture. */
    afterMs: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('done'),
    id: Id,
    provider: z.string(),
    timingsMs: z.record(z.string(), z.number()),
  }),
  z.object({ type: z.literal('cancelled'), id: Id }),
  z.object({ type: z.literal('failed'), id: Id, message: z.string() }),
  z.object({ type: z.literal('released'), baseDir: z.string() }),
]);
export type FromWorker = z.infer<typeof FromWorker>;

/** One preview picture as it crosses from the worker. */
export type WorkerPreview = Omit<Extract<FromWorker, { type: 'preview' }>, 'type' | 'id'>;

/** One finished image as it crosses from the worker (PNG bytes plus how it was made). */
export type WorkerImage = Omit<Extract<FromWorker, { type: 'image' }>, 'type' | 'id'>;
