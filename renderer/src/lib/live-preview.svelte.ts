// Live mode: with Live on, every settled change of the form (prompt, seed, model, …) asks for the
// quick picture of those settings (generate.live: TAESD when installed, never saved), so the image
// follows the prompt as it is typed; Generate keeps one. Answers to superseded requests are dropped.
import type { ApiClient, LivePicture } from '../../../main/contract/api.ts';
import type { GenerationRequest } from '../../../main/contract/generation.ts';
import { ApiClientError, errorMessage } from '../api/errors.ts';
import type { GenerateForm } from './generate-form.svelte.ts';
import { realTimers, type WarmupTimers } from './model-warmup.svelte.ts';

export class LiveStore {
  /** The newest live picture, until Live is turned off or a generated image takes its place. */
  current = $state<LivePicture | null>(null);
  /** Why the last live picture failed (not shown for superseded or queue-busy requests). */
  error = $state<string | null>(null);
  rendering = $state(false);

  #sequence = 0;
  /** Settings whose picture is being generated for real (Generate): no live picture for them. */
  #generatedKey: string | null = null;
  readonly #stop: () => void;

  constructor(
    form: GenerateForm,
    private readonly api: Pick<ApiClient, 'call'>,
    delayMs = 400,
    timers: WarmupTimers = realTimers,
  ) {
    this.#stop = $effect.root(() => {
      $effect(() => {
        if (!form.live) {
          this.current = null;
          this.error = null;
          return;
        }
        const result = form.toRequest();
        if (!result.ok || JSON.stringify(result.request) === this.#generatedKey) return;
        const sequence = ++this.#sequence;
        const handle = timers.set(() => void this.#render(result.request, sequence), delayMs);
        return () => timers.clear(handle);
      });
    });
  }

  /**
   * Generate was pressed and the form moved on (the dice rolled the seed): these settings get no
   * live picture, which would cover the image being generated; the user's next change does.
   */
  afterGenerate(form: GenerateForm): void {
    const result = form.toRequest();
    this.#generatedKey = result.ok ? JSON.stringify(result.request) : null;
  }

  /** A generated image is shown now; the next change of the form brings a live picture back. */
  clear(): void {
    this.current = null;
  }

  dispose(): void {
    this.#stop();
  }

  async #render(request: GenerationRequest, sequence: number): Promise<void> {
    this.rendering = true;
    try {
      const picture = await this.api.call('generate.live', { request });
      if (sequence !== this.#sequence) return;
      this.current = picture;
      this.error = null;
    } catch (error) {
      if (sequence !== this.#sequence) return;
      // Replaced by a newer request, or the queue is generating: the next change asks again.
      const quiet = error instanceof ApiClientError && (error.code === 'conflict' || error.code === 'unavailable');
      if (!quiet) this.error = errorMessage(error);
    } finally {
      if (sequence === this.#sequence) this.rendering = false;
    }
  }
}
