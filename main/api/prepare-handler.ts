// generate.prepare: the Create view names the models it will use; the inference process opens them
// while the user types (a full SD 1.5 takes seconds to load), so Generate starts at once.
import type { Handlers, MemoryMode } from '../contract/api.ts';
import type { InferenceSupervisor } from '../inference/supervisor.ts';
import type { ModelResolver } from './model-resolver.ts';

export interface PrepareSettings {
  provider: string;
  /** Settings.preview is on: open the preview decoder (TAESD) too. */
  preview: boolean;
  memory: MemoryMode;
}

export function prepareHandler(resolver: ModelResolver, supervisor: InferenceSupervisor, settings: () => PrepareSettings): Pick<Handlers, 'generate.prepare'> {
  return {
    'generate.prepare': async ({ baseModelId, lora }) => {
      const { provider, preview, memory } = settings();
      const { baseModel: _base, lora: _lora, ...models } = await resolver.resolve({ baseModelId, lora }, { preview });
      await supervisor.prepare(models, lora ? lora.scale : null, provider, memory);
      return { ok: true };
    },
  };
}
