// Tells the main side which models the Create form will use, so the inference process opens them
// while the user writes the prompt (a full SD 1.5 takes seconds to load) and Generate starts at
// once. Debounced: dragging the LoRA strength slider asks once, after it stops.
import type { ApiClient } from '../../../main/contract/api.ts';
import type { GenerateForm } from './generate-form.svelte.ts';

export interface WarmupTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** setTimeout/clearTimeout as WarmupTimers (tests pass manual ones). */
export const realTimers: WarmupTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Starts asking; returns the function that stops it. */
export function warmModels(form: GenerateForm, api: Pick<ApiClient, 'call'>, delayMs = 500, timers: WarmupTimers = realTimers): () => void {
  return $effect.root(() => {
    $effect(() => {
      const baseModelId = form.baseModelId;
      const lora = form.loraId ? { id: form.loraId, scale: form.loraScale } : null;
      if (!baseModelId) return;
      const handle = timers.set(() => {
        // Only a head start: a model that cannot load is reported by the generate that needs it.
        api.call('generate.prepare', { baseModelId, lora }).catch(() => {});
      }, delayMs);
      return () => timers.clear(handle);
    });
  });
}
