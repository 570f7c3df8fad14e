// The Create view's result area with the quick preview: a job.preview shows at once, marked as a
// preview; the job's full image replaces it; a job that ends without an image takes its preview away.
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { JobPreview } from '../../../main/contract/api.ts';
import { Studio } from '../lib/studio.svelte.ts';
import { historyItemFactory, jobFactory, modelFactory } from '../test/factories.ts';
import { MemoryClient } from '../test/memory-client.ts';
import ResultView from './ResultView.svelte';

// A 1x1 PNG: the contract wants a PNG data URL.
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const preview = (overrides: Partial<JobPreview> = {}): JobPreview => ({ jobId: 'job-a', batchIndex: 0, width: 512, height: 512, image: PIXEL, afterMs: 900, ...overrides });

function setup(settingsPreview: 'full-only' | 'preview-then-full' = 'preview-then-full', models = [modelFactory({ id: 'dream' })]) {
  const api = new MemoryClient()
    .handle('app.info', () => ({ version: '0.1.0', dataDir: '/d', modelsDir: '/m', platform: 'linux', providers: ['cpu'], inference: { state: 'ready', provider: 'cpu', message: null } }))
    .handle('settings.get', () => ({ provider: 'auto', defaultBaseModelId: null, defaultLoraId: null, preview: settingsPreview }))
    .handle('models.list', () => models)
    .handle('models.catalog', () => [])
    .handle('history.list', () => ({ items: [], nextCursor: null, total: 0 }))
    .handle('jobs.list', () => []);
  return { api, studio: new Studio(api, { setTimer: () => 0 }) };
}

function render(studio: Studio) {
  const target = document.createElement('div');
  document.body.append(target);
  const component = mount(ResultView, { target, props: { studio } });
  flushSync();
  return { target, done: () => (unmount(component), target.remove()) };
}

describe('ResultView quick preview', () => {
  it('shows the preview at once with a Preview badge, then the full image of the same job replaces it', async () => {
    const { api, studio } = setup();
    await studio.start();
    const { target, done } = render(studio);
    api.emit('job.preview', preview());
    flushSync();
    const shown = target.querySelector('[data-testid="preview"] img');
    expect(shown?.getAttribute('src')).toBe(PIXEL);
    expect(target.querySelector('[data-testid="preview"] figcaption')?.textContent).toBe('Preview');

    // Another job's image does not take this preview away.
    api.emit('history.added', historyItemFactory({ batchId: 'job-other' }));
    flushSync();
    expect(target.querySelector('[data-testid="preview"]')).not.toBeNull();

    const full = historyItemFactory({ batchId: 'job-a', batchIndex: 0 });
    api.emit('history.added', full);
    flushSync();
    expect(target.querySelector('[data-testid="preview"]')).toBeNull();
    expect(target.querySelector('img.main-image')?.getAttribute('src')).toContain(full.imagePath);
    expect(studio.preview.current).toBeNull();
    done();
  });

  it('a job that fails or is cancelled after its preview does not leave the preview on screen', async () => {
    const { api, studio } = setup();
    await studio.start();
    api.emit('job.preview', preview({ jobId: 'job-b' }));
    expect(studio.preview.current?.jobId).toBe('job-b');
    api.emit('job.updated', jobFactory({ id: 'job-b', state: 'running' }));
    expect(studio.preview.current?.jobId).toBe('job-b');
    api.emit('job.updated', jobFactory({ id: 'job-b', state: 'cancelled' }));
    expect(studio.preview.current).toBeNull();
  });

  it('Settings knows when the preview is on but no TAESD is installed', async () => {
    const without = setup('preview-then-full');
    await without.studio.start();
    expect(without.studio.previewUnavailable).toBe(true);
    const installed = setup('preview-then-full', [modelFactory({ id: 'dream' }), modelFactory({ id: 'taesd', kind: 'preview-decoder' })]);
    await installed.studio.start();
    expect(installed.studio.previewUnavailable).toBe(false);
    const off = setup('full-only');
    await off.studio.start();
    expect(off.studio.previewUnavailable).toBe(false);
  });
});
