import { describe, expect, it } from 'vitest';
import type { HistoryItem } from '../../../main/contract/api.ts';
import { historyItemFactory, requestFactory } from '../test/factories.ts';
import { MemoryClient } from '../test/memory-client.ts';
import { GalleryStore } from './gallery.svelte.ts';

function setup(items: HistoryItem[], pageSize = 2) {
  const api = new MemoryClient();
  let store = items;
  const deleted = new Map<string, HistoryItem[]>();
  api
    .handle('history.list', (q) => {
      const matching = store.filter((i) => !q.search || i.request.prompt.includes(q.search)).filter((i) => !q.favouritesOnly || i.favourite);
      const start = q.cursor ? Number(q.cursor) : 0;
      const page = matching.slice(start, start + q.limit);
      const next = start + q.limit < matching.length ? String(start + q.limit) : null;
      return { items: page, nextCursor: next, total: matching.length };
    })
    .handle('history.delete', ({ ids }) => {
      deleted.set('undo-1', store.filter((i) => ids.includes(i.id)));
      store = store.filter((i) => !ids.includes(i.id));
      return { undoToken: 'undo-1' };
    })
    .handle('history.undoDelete', ({ undoToken }) => {
      const back = deleted.get(undoToken) ?? [];
      store = [...back, ...store];
      return { restored: back.length };
    })
    .handle('history.setFavourite', ({ id, favourite }) => {
      store = store.map((i) => (i.id === id ? { ...i, favourite } : i));
      return store.find((i) => i.id === id);
    });
  const timers: Array<() => void> = [];
  const gallery = new GalleryStore(api, { pageSize, setTimer: (fn) => timers.push(fn), clearTimer: () => timers.pop() });
  return { api, gallery, timers };
}

describe('GalleryStore', () => {
  it('pages through the history by cursor without duplicates', async () => {
    const { gallery } = setup([1, 2, 3, 4, 5].map((n) => historyItemFactory({ id: `i${n}` })));
    await gallery.refresh();
    expect(gallery.items.map((i) => i.id)).toEqual(['i1', 'i2']);
    expect(gallery.hasMore).toBe(true);
    await gallery.loadMore();
    await gallery.loadMore();
    expect(gallery.items.map((i) => i.id)).toEqual(['i1', 'i2', 'i3', 'i4', 'i5']);
    expect(gallery.hasMore).toBe(false);
    expect(gallery.total).toBe(5);
  });

  it('searches once the typing pauses', async () => {
    const { api, gallery, timers } = setup([
      historyItemFactory({ request: requestFactory({ prompt: 'red fox' }) }),
      historyItemFactory({ request: requestFactory({ prompt: 'blue whale' }) }),
    ]);
    gallery.setSearch('f');
    gallery.setSearch('fox');
    expect(timers).toHaveLength(1);
    timers[0]!();
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(api.callsOf('history.list')).toHaveLength(1);
    expect(gallery.items.map((i) => i.request.prompt)).toEqual(['red fox']);
  });

  it('deletes at once and restores on undo', async () => {
    const { gallery } = setup([historyItemFactory({ id: 'a' }), historyItemFactory({ id: 'b' })], 10);
    await gallery.refresh();
    await gallery.delete(['a']);
    expect(gallery.items.map((i) => i.id)).toEqual(['b']);
    expect(gallery.total).toBe(1);
    expect(gallery.pendingUndo).toEqual({ token: 'undo-1', count: 1 });
    expect(await gallery.undoDelete()).toBe(1);
    expect(gallery.items.map((i) => i.id).sort()).toEqual(['a', 'b']);
    expect(gallery.pendingUndo).toBeNull();
  });

  it('adds live images that match the current filter only', async () => {
    const { api, gallery } = setup([], 10);
    await gallery.refresh();
    gallery.search = 'fox';
    api.emit('history.added', historyItemFactory({ id: 'w', request: requestFactory({ prompt: 'whale' }) }));
    api.emit('history.added', historyItemFactory({ id: 'f', request: requestFactory({ prompt: 'red fox' }) }));
    expect(gallery.items.map((i) => i.id)).toEqual(['f']);
    expect(gallery.total).toBe(1);
  });

  it('toggles a favourite and keeps the server answer', async () => {
    const { gallery } = setup([historyItemFactory({ id: 'a' })], 10);
    await gallery.refresh();
    await gallery.toggleFavourite(gallery.items[0]!);
    expect(gallery.items[0]!.favourite).toBe(true);
  });

  it('rejects an answer that breaks the contract', async () => {
    const api = new MemoryClient().handle('history.list', () => ({ items: [{ id: 'x' }], nextCursor: null, total: 1 }));
    const gallery = new GalleryStore(api);
    await expect(gallery.refresh()).rejects.toThrow(/does not match the contract/);
    expect(gallery.loading).toBe(false);
  });
});
