import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { ApiError, LivePicture } from '../../../main/contract/api.ts';
import { ApiClientError } from '../api/errors.ts';
import { MemoryClient } from '../test/memory-client.ts';
import { GenerateForm } from './generate-form.svelte.ts';
import { LiveStore } from './live-preview.svelte.ts';
import type { WarmupTimers } from './model-warmup.svelte.ts';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

function manualTimers() {
  let next = 1;
  const pending = new Map<number, () => void>();
  const timers: WarmupTimers = { set: (fn) => (pending.set(next, fn), next++), clear: (h) => pending.delete(h as number) };
  const fire = () => {
    const due = [...pending.values()];
    pending.clear();
    due.forEach((fn) => fn());
  };
  return { timers, fire, pending };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('live mode', () => {
  it('asks for the picture of the settled form, keeps only the newest answer, and stops when Live is off', async () => {
    const answers: Array<(p: LivePicture) => void> = [];
    const api = new MemoryClient().handle('generate.live', () => new Promise<LivePicture>((resolve) => answers.push(resolve)));
    const form = new GenerateForm(() => 0.5);
    form.baseModelId = 'dream';
    const { timers, fire, pending } = manualTimers();
    const live = new LiveStore(form, api, 400, timers);
    try {
      flushSync();
      expect(pending.size).toBe(0); // Live is off
      form.live = true;
      form.prompt = 'a c';
      flushSync();
      form.prompt = 'a cat'; // typing: the earlier timer is dropped
      flushSync();
      expect(pending.size).toBe(1);
      fire();
      await settle();
      expect(api.calls.map((c) => (c.input as { request: { prompt: string } }).request.prompt)).toEqual(['a cat']);
      form.prompt = 'a cat on a sofa';
      flushSync();
      fire();
      await settle();
      // The older answer arrives last: it is dropped.
      answers[1]!({ image: PNG, width: 64, height: 64, seed: 2, ms: 5 });
      answers[0]!({ image: PNG, width: 64, height: 64, seed: 1, ms: 5 });
      await settle();
      expect(live.current?.seed).toBe(2);
      form.live = false;
      flushSync();
      expect(live.current).toBeNull();
      expect(pending.size).toBe(0);
    } finally {
      live.dispose();
    }
  });

  it('stays quiet when a newer request or the queue got in the way, and says why otherwise', async () => {
    let fail: ApiError = { code: 'conflict', message: 'replaced by a newer live preview' };
    const api = new MemoryClient().handle('generate.live', () => {
      throw new ApiClientError(fail);
    });
    const form = new GenerateForm(() => 0.5);
    form.baseModelId = 'dream';
    form.live = true;
    const { timers, fire } = manualTimers();
    const live = new LiveStore(form, api, 400, timers);
    try {
      flushSync();
      fire();
      await settle();
      expect(live.error).toBeNull();
      fail = { code: 'not_found', message: 'base model "dream" is not in the models folder' };
      form.prompt = 'x';
      flushSync();
      fire();
      await settle();
      expect(live.error).toMatch(/not in the models folder/);
    } finally {
      live.dispose();
    }
  });
});

describe('live mode and Generate', () => {
  it('the seed Generate rolls does not bring a live picture over the image being made', async () => {
    const api = new MemoryClient().handle('generate.live', () => ({ image: PNG, width: 64, height: 64, seed: 1, ms: 1 }));
    let r = 0.1;
    const form = new GenerateForm(() => (r += 0.1));
    form.baseModelId = 'dream';
    form.live = true;
    const { timers, fire, pending } = manualTimers();
    const live = new LiveStore(form, api, 400, timers);
    try {
      flushSync();
      fire();
      await settle();
      const seed = form.seed;
      form.afterEnqueue(); // the dice
      live.afterGenerate(form);
      expect(form.seed).not.toBe(seed);
      flushSync();
      expect(pending.size).toBe(0);
      form.prompt = 'changed';
      flushSync();
      expect(pending.size).toBe(1);
    } finally {
      live.dispose();
    }
  });
});
