// What a job does: resolve its models, run it in the inference process, save each image to the
// history the moment it arrives (so a cancel or a crash later in the batch loses nothing saved).
import type { GenerationRequest } from '../contract/generation.ts';
import type { ResolvedModels } from '../inference/protocol.ts';
import type { GeneratedImage, InferenceSupervisor } from '../inference/supervisor.ts';
import type { JobRunner } from './queue.ts';

export interface SaveImageInput {
  request: GenerationRequest;
  image: GeneratedImage;
  /** The job id: all images of one job share it as their batch id. */
  batchId: string;
}

export interface GenerationRunnerDeps {
  supervisor: InferenceSupervisor;
  resolveModels(request: GenerationRequest): Promise<ResolvedModels>;
  /** Current provider preference (settings). */
  provider(): string;
  /** Saves one image; returns its history id. */
  saveImage(input: SaveImageInput): Promise<string>;
}

export function createGenerationRunner(deps: GenerationRunnerDeps): JobRunner {
  return async (job, context) => {
    const models = await deps.resolveModels(job.request);
    await deps.supervisor.generate(job.request, models, deps.provider(), {}, {
      signal: context.signal,
      onProgress: context.onProgress,
      onImage: async (image) => {
        const id = await deps.saveImage({ request: job.request, image, batchId: job.id });
        context.onImageSaved(id);
      },
    });
  };
}
