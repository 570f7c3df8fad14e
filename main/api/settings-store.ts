// The user's settings as one JSON file in the data folder (settings.json). Read once, validated
// (a hand-edited or older file falls back field by field to defaults), written atomically.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings } from '../contract/api.ts';

export const DEFAULT_SETTINGS: Settings = {
  provider: 'auto',
  defaultBaseModelId: null,
  defaultLoraId: null,
  preview: 'full-only',
  memory: 'normal',
};

export class SettingsStore {
  private readonly path: string;
  private current: Settings;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'settings.json');
    this.current = this.load();
  }

  get(): Settings {
    return { ...this.current };
  }

  set(patch: Partial<Settings>): Settings {
    const next = Settings.parse({ ...this.current, ...patch });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(temp, this.path);
    this.current = next;
    return this.get();
  }

  private load(): Settings {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return { ...DEFAULT_SETTINGS };
    }
    const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    if (raw && typeof raw === 'object') {
      for (const [key, value] of Object.entries(raw)) {
        const field = Settings.shape[key as keyof Settings];
        if (field?.safeParse(value).success) merged[key] = value;
      }
    }
    return Settings.parse(merged);
  }
}
