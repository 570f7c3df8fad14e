import { describe, expect, it } from 'vitest';
import { historyItemFactory, modelFactory, requestFactory } from '../test/factories.ts';
import { MemoryClient } from '../test/memory-client.ts';
import { Studio } from './studio.svelte.ts';

function studioWith(models: ReturnType<typeof modelFactory>[]) {
  let installed = models;
  const api = new MemoryClient()
    .handle('app.info', () => ({
      version: '0.1.0',
      dataDir: '/data',
      modelsDir: '/models',
      platform: 'linux',
      providers: ['cpu'],
      inference: { state: 'ready', provider: 'cpu', message: null },
    }))
    .handle('settings.get', () => ({ provider: 'auto', defaultBaseModelId: null, defaultLoraId: null, preview: 'full-only' }))
    .handle('models.list', () => installed)
    .handle('models.catalog', () => [])
    .handle('history.list', () => ({ items: [], nextCursor: null, total: 0 }))
    .handle('jobs.list', () => [])
    .handle('generate.enqueue', () => ({ jobIds: ['j1'] }));
  const studio = new Studio(api, { random: () => 0.25, setTimer: () => 0 });
  return { api, studio, install: (m: typeof models) => (installed = m) };
}

describe('Studio', () => {
  it('shows the first-run guide without models, then picks the models once they appear', async () => {
    const { studio, install } = studioWith([]);
    await studio.start();
    expect(studio.needsModels).toBe(true);
    install([modelFactory({ id: 'dream' }), modelFactory({ id: 'yoso', kind: 'lora' })]);
    await studio.models.load();
    expect(studio.needsModels).toBe(false);
    expect(studio.form.baseModelId).toBe('dream');
    expect(studio.form.loraId).toBe('yoso');
  });

  it('says what is wrong instead of a blank page when the engine cannot be reached', async () => {
    const api = new MemoryClient();
    const studio = new Studio(api);
    await studio.start();
    expect(studio.fatal).toMatch(/app.info is not handled/);
    expect(studio.started).toBe(true);
  });

  it('enqueues the form and rolls the seed; an invalid form is refused with its reason', async () => {
    const { api, studio } = studioWith([modelFactory({ id: 'dream' })]);
    await studio.start();
    const seed = studio.form.seed;
    studio.form.prompt = 'fox';
    studio.form.batchCount = 2;
    expect(await studio.generate()).toBe(true);
    expect(api.callsOf('generate.enqueue')[0]).toMatchObject({ count: 2, request: { prompt: 'fox', seed, baseModelId: 'dream' } });
    studio.form.width = 100;
    expect(await studio.generate()).toBe(false);
    expect(studio.toasts.list.at(-1)?.message).toMatch(/multiple of 8/);
  });

  it('shows each new image large as it arrives', async () => {
    const { api, studio } = studioWith([modelFactory({ id: 'dream' })]);
    await studio.start();
    const item = historyItemFactory({ request: requestFactory({ baseModelId: 'dream' }) });
    api.emit('history.added', item);
    expect(studio.current?.id).toBe(item.id);
  });

  it('falls back to an installed model when reused parameters name a missing one', async () => {
    const { api, studio } = studioWith([modelFactory({ id: 'dream' })]);
    api.handle('history.reuse', () => requestFactory({ baseModelId: 'gone', seed: 99 }));
    await studio.start();
    await studio.reuse('x');
    expect(studio.form.seed).toBe(99);
    expect(studio.form.baseModelId).toBe('dream');
    expect(studio.toasts.list.some((t) => t.kind === 'error' && /gone/.test(t.message))).toBe(true);
  });
});

describe('Studio LoRA default', () => {
  it('picks the LoRA once, and keeps "None" when the user chose it', async () => {
    const { studio } = studioWith([modelFactory({ id: 'dream' }), modelFactory({ id: 'yoso', kind: 'lora' })]);
    await studio.start();
    expect(studio.form.loraId).toBe('yoso');
    studio.form.loraId = null;
    await studio.models.load();
    expect(studio.form.loraId).toBeNull();
  });
});
