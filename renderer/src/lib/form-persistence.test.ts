import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { GenerateForm } from './generate-form.svelte.ts';
import { persistForm, restoreForm } from './form-persistence.svelte.ts';

class MemoryStorage {
  data = new Map<string, string>();
  getItem = (k: string) => this.data.get(k) ?? null;
  setItem = (k: string, v: string) => void this.data.set(k, v);
}

describe('form persistence', () => {
  it('writes each change and restores it into a fresh form', () => {
    const storage = new MemoryStorage();
    const form = new GenerateForm();
    const stop = persistForm(form, storage);
    form.prompt = 'a red fox';
    form.width = 64;
    form.loraId = null;
    form.seedLocked = true;
    flushSync();
    stop();
    const again = new GenerateForm();
    expect(restoreForm(again, storage)).toBe(true);
    expect(again).toMatchObject({ prompt: 'a red fox', width: 64, loraId: null, seedLocked: true, seed: form.seed });
  });

  it('ignores stored data that is not a form', () => {
    const storage = new MemoryStorage();
    storage.setItem('yoso.generate-form.v1', '{"steps":"many"}');
    const form = new GenerateForm();
    expect(restoreForm(form, storage)).toBe(false);
    expect(form.steps).toBe(1);
    storage.setItem('yoso.generate-form.v1', 'not json');
    expect(restoreForm(form, storage)).toBe(false);
  });
});
