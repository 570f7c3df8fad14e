// generate.live: while the user types with Live on, the quick picture of the form's settings is
// made in the inference process and handed back, not saved (Generate keeps an image). The newest
// request wins: a call supersedes the one still running, which stops between UNet steps. Queued
// jobs come first: live previews wait while the queue generates.
import type { Handlers, LivePicture, MemoryMode } from '../contract/api.ts';
import type { GenerationRequest } from '../contract/generation.ts';
import type { InferenceSupervisor } from '../inference/supervisor.ts';
import type { WorkerPreview } from '../inference/protocol.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { isFinished } from '../jobs/queue.ts';
import { ApiFailure } from './errors.ts';
import type { ModelResolver } from './model-resolver.ts';
import { pngDataUrl } from './preview-event.ts';

export interface LivePreviewDeps {
  resolver: ModelResolver;
  supervisor: InferenceSupervisor;
  queue: JobQueue;
  provider(): string;
  memory(): MemoryMode;
}

export class LivePreview {
  #current: AbortController | null = null;

  constructor(private readonly deps: LivePreviewDeps) {}

  async render(request: GenerationRequest): Promise<LivePicture> {
    this.#current?.abort();
    const controller = new AbortController();
    this.#current = controller;
    const started = performance.now();
    try {
      if (!this.deps.queue.list().every(isFinished)) {
        throw new ApiFailure('unavailable', 'the queue is generating: the live preview waits until it is done');
      }
      const { baseModel: _base, lora: _lora, ...models } = await this.deps.resolver.resolve(request, { preview: true });
      let picture = null as WorkerPreview | null; // set in the callback, which TypeScript does not follow
      await this.deps.supervisor.generate({ ...request, batchSize: 1 }, models, this.deps.provider(), {
        signal: controller.signal,
        previewOnly: true,
        memory: this.deps.memory(),
        onPreview: (preview) => (picture ??= preview),
      });
      if (!picture) throw new Error('the inference process sent no live picture');
      const { png, width, height } = picture;
      return { image: pngDataUrl(png), width, height, seed: request.seed, ms: performance.now() - started };
    } catch (error) {
      if (controller.signal.aborted) throw new ApiFailure('conflict', 'replaced by a newer live preview');
      throw error;
    } finally {
      if (this.#current === controller) this.#current = null;
    }
  }

  /** Stops a running live preview (app closing). */
  cancel(): void {
    this.#current?.abort();
  }
}

export function liveHandler(live: LivePreview): Pick<Handlers, 'generate.live'> {
  return { 'generate.live': ({ request }) => live.render(request) };
}
