// The typed messages between the main side and the inference process. Both ends validate what
// they receive with these schemas: a process boundary is an outside boundary (a crashed or
// mismatched worker must produce a clear error, not an undefined field deep in the queue).
import { z } from 'zod';
import { GenerationRequest } from '../contract/generation.ts';

const Id = z.string().min(1);

/** Where the worker finds the files of one generation; the main side resolves ids to paths. */
export const ResolvedModels = z.object({
  /** Absolute path of the base model folder (optimum ONNX layout). */
  baseDir: z.string().min(1),
  /** Absolute path of the LoRA file, when the request names one. */
  loraPath: z.string().min(1).nullable(),
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
  }),
  z.object({ type: z.literal('cancel'), id: Id }),
  /**
   * Loads a base model (and LoRA) ahead of the first generate, while the UI is usable: the sessions
   * of a full SD 1.5 take seconds to open. Queued like a generate; a failure is only logged (the
   * generate that needs the model reports it).
   */
  z.object({ type: z.literal('prepare'), models: ResolvedModels, loraScale: z.number().nullable(), provider: z.string() }),
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
    /** 8-bit pixels, row-major; the main side's history encodes the PNG with its metadata. */
    pixels: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'pixels must be bytes'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    channels: z.union([z.literal(3), z.literal(4)]),
    /** Provider and stage timings of the run that made it (the history row keeps them). */
    provider: z.string(),
    timingsMs: z.record(z.string(), z.number()),
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

/** One finished image as it crosses from the worker (PNG bytes plus how it was made). */
export type WorkerImage = Omit<Extract<FromWorker, { type: 'image' }>, 'type' | 'id'>;
