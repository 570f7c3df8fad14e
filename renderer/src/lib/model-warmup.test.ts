import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { MemoryClient } from '../test/memory-client.ts';
import { GenerateForm } from './generate-form.svelte.ts';
import { warmModels, type WarmupTimers } from './model-warmup.svelte.ts';

/** Timers that fire only when told: the debounce is observable without waiting. */
function manualTimers() {
  let next = 1;
  const pending = new Map<number, () => void>();
  const timers: WarmupTimers = {
    set: (fn) => (pending.set(next, fn), next++),
    clear: (handle) => pending.delete(handle as number),
  };
  const fire = () => {
    const due = [...pending.values()];
    pending.clear();
    for (const fn of due) fn();
  };
  return { timers, fire, pending };
}

describe('model warm-up', () => {
  it('asks the main side to load the chosen models once the choice settles', async () => {
    const api = new MemoryClient().handle('generate.prepare', () => ({ ok: true }));
    const form = new GenerateForm(() => 0.5);
    const { timers, fire, pending } = manualTimers();
    const stop = warmModels(form, api, 500, timers);
    try {
      flushSync();
      expect(pending.size).toBe(0); // no base model chosen yet: nothing to load
      form.baseModelId = 'dream';
      form.loraId = 'yoso';
      flushSync();
      form.loraScale = 0.8; // a slider drag: the earlier timer is dropped
      flushSync();
      form.loraScale = 0.9;
      flushSync();
      expect(pending.size).toBe(1);
      fire();
      await Promise.resolve();
      expect(api.calls).toEqual([{ name: 'generate.prepare', input: { baseModelId: 'dream', lora: { id: 'yoso', scale: 0.9 } } }]);
      form.loraId = null;
      flushSync();
      fire();
      await Promise.resolve();
      expect(api.calls.at(-1)).toEqual({ name: 'generate.prepare', input: { baseModelId: 'dream', lora: null } });
    } finally {
      stop();
    }
  });
});
