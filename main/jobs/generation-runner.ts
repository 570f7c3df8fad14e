// What a job does: resolve its models, run it in the inference process, save each image to the
// history the moment it arrives (so a cancel or a crash later in the batch loses nothing saved).
import type { Job } from '../contract/api.ts';
import type { MemoryMode } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { HistoryItem, HistoryStore, ModelRef } from '../history/index.ts';
import type { ResolvedModels, WorkerPreview } from '../inference/protocol.ts';
import type { InferenceSupervisor } from '../inference/supervisor.ts';
import type { JobRunner } from './queue.ts';

export interface ResolvedJobModels extends ResolvedModels {
  baseModel: ModelRef;
  lora: ModelRef | null;
}

export interface GenerationRunnerDeps {
  supervisor: InferenceSupervisor;
  history: HistoryStore;
  /** `origin` lets the studio's jobs show a preview while the A1111 API's (which wait for the PNG) skip it. */
  resolveModels(request: GenerationRequest, origin: Job['origin']): Promise<ResolvedJobModels>;
  /** Current provider preference (settings). */
  provider(): string;
  /** Current memory mode (settings); default normal. */
  memory?(): MemoryMode;
  /** Called after each image is durably saved. */
  onSaved?(item: HistoryItem): void;
  /** A quick preview of a job's image, before the full image (never saved). */
  onPreview?(jobId: string, preview: WorkerPreview): void;
}

export function createGenerationRunner(deps: GenerationRunnerDeps): JobRunner {
  return async (job, context) => {
    const { baseModel, lora, ...models } = await deps.resolveModels(job.request, job.origin);
    await deps.supervisor.generate(job.request, models, deps.provider(), {
      signal: context.signal,
      ...(deps.memory ? { memory: deps.memory() } : {}),
      onProgress: context.onProgress,
      onPreview: (preview) => deps.onPreview?.(job.id, preview),
      onImage: async ({ png, thumbnailPng, width, height, channels, batchIndex, provider, timingsMs }) => {
        const [item] = await deps.history.saveGeneration({
          request: job.request,
          images: [{ encoded: { png, thumbnailPng }, width, height, channels, batchIndex }],
          provider,
          timingsMs,
          baseModel,
          lora,
          batchId: job.id,
        });
        if (!item) throw new Error('the history saved no item for a generated image');
        context.onImageSaved(item.id);
        deps.onSaved?.(item);
      },
    });
  };
}
