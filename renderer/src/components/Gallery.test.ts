// The gallery's grid renders only what is on screen: 10,000 history items, a few dozen elements.
import { flushSync, mount, unmount } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { HistoryItem } from '../../../main/contract/api.ts';
import { Studio } from '../lib/studio.svelte.ts';
import { historyItemFactory, requestFactory } from '../test/factories.ts';
import { MemoryClient } from '../test/memory-client.ts';
import Gallery from './Gallery.svelte';

const COUNT = 10_000;

function studioWithHistory(items: HistoryItem[]) {
  const api = new MemoryClient()
    .handle('history.list', (q) => {
      const start = q.cursor ? Number(q.cursor) : 0;
      const end = Math.min(items.length, start + q.limit);
      return { items: items.slice(start, end), nextCursor: end < items.length ? String(end) : null, total: items.length };
    })
    .handle('history.delete', () => ({ undoToken: 'u1' }));
  return { api, studio: new Studio(api, { gallery: { pageSize: 500 }, setTimer: () => 0 }) };
}

describe('Gallery', () => {
  it('keeps the DOM small at 10,000 items and follows the scroll', async () => {
    const items = Array.from({ length: COUNT }, (_, i) => historyItemFactory({ id: `h${i}`, request: requestFactory({ prompt: `prompt ${i}` }) }));
    const { studio } = studioWithHistory(items);
    await studio.gallery.refresh();
    while (studio.gallery.hasMore) await studio.gallery.loadMore();
    expect(studio.gallery.items).toHaveLength(COUNT);

    const target = document.createElement('div');
    document.body.append(target);
    const started = performance.now();
    const component = mount(Gallery, { target, props: { studio } });
    flushSync();
    const mountMs = performance.now() - started;

    const thumbs = () => target.querySelectorAll('li[data-index]');
    expect(thumbs().length).toBeGreaterThan(0);
    expect(thumbs().length).toBeLessThan(80);
    expect(target.textContent).toContain('10000 images');

    const viewport = target.querySelector<HTMLElement>('.viewport')!;
    viewport.scrollTop = 500 * 158; // row 500 of 2,000 (5 columns of 150 px + 8 px gap in 800 px)
    viewport.dispatchEvent(new Event('scroll'));
    flushSync();
    const indices = [...thumbs()].map((li) => Number((li as HTMLElement).dataset.index));
    expect(Math.min(...indices)).toBeGreaterThan(2400);
    expect(Math.max(...indices)).toBeLessThan(2600);
    expect(thumbs().length).toBeLessThan(80);
    console.log(`gallery: ${COUNT} items, ${thumbs().length} rendered cells, mount ${mountMs.toFixed(1)} ms (happy-dom)`);
    unmount(component);
  });

  it('deletes the selection with the Delete key and offers undo', async () => {
    const items = [historyItemFactory({ id: 'a' }), historyItemFactory({ id: 'b' })];
    const { api, studio } = studioWithHistory(items);
    await studio.gallery.refresh();
    const target = document.createElement('div');
    document.body.append(target);
    const component = mount(Gallery, { target, props: { studio } });
    flushSync();
    const first = target.querySelector<HTMLButtonElement>('li[data-index="0"] button')!;
    first.click();
    flushSync();
    first.dispatchEvent(new KeyboardEvent('keydown', { key: 'Delete', bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(api.callsOf('history.delete')).toEqual([{ ids: ['a'] }]);
    expect(studio.gallery.items.map((i) => i.id)).toEqual(['b']);
    expect(studio.toasts.list.at(-1)?.action?.label).toBe('Undo');
    unmount(component);
  });
});
