// app.info and settings.*: what the UI shows in its status bar and settings page.
import { Provider, type Handlers } from '../contract/api.ts';
import type { InferenceSupervisor } from '../inference/supervisor.ts';
import type { SettingsStore } from './settings-store.ts';

export interface AppFacts {
  version: string;
  dataDir: string;
  modelsDir: string;
}

const PROVIDERS = Provider.options.filter((p) => p !== 'auto');

export function appHandlers(
  facts: AppFacts,
  supervisor: InferenceSupervisor,
  settings: SettingsStore,
): Pick<Handlers, 'app.info' | 'settings.get' | 'settings.set'> {
  return {
    'app.info': async () => {
      // Right after start the worker has not said which providers it has; wait for it briefly.
      await Promise.race([supervisor.start().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
      return {
        ...facts,
        platform: process.platform,
        providers: ['auto', ...PROVIDERS.filter((p) => supervisor.providers.includes(p))],
        inference: supervisor.status(),
      };
    },
    'settings.get': async () => settings.get(),
    'settings.set': async (patch) => settings.set(patch),
  };
}
