import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode } from 'fast-png';
import { insertAfterHeader } from '../../png-metadata/chunks.ts';
import { readPngParameters } from '../../png-metadata/index.ts';
import { textChunk } from '../../png-metadata/text-chunks.ts';
import { encodeForHistory } from '../encode-image.ts';
import { openHistory, type PixelImage } from '../index.ts';
import { InvalidQueryError } from '../queries.ts';
import { rowFromMetadata } from '../rows.ts';
import { imageMetadata } from '../store.ts';
import { fillGallery, makeRequest, randomImage, saveInput, tempDir } from './factories.ts';

describe('history store', () => {
  it('saves a batch: files, thumbnails, rows and embedded metadata agree', async (t) => {
    const store = await openHistory({ dataDir: tempDir(t) });
    t.after(() => store.close());
    const request = makeRequest({ seed: 40, batchSize: 3, lora: { id: 'yoso', scale: 1 } });
    const items = await store.saveGeneration(saveInput(request, 300));
    assert.deepEqual(items.map((i) => [i.batchIndex, i.seed, i.request.seed, i.request.batchSize]), [
      [0, 40, 40, 1], [1, 41, 41, 1], [2, 42, 42, 1],
    ]);
    assert.equal(new Set(items.map((i) => i.batchId)).size, 1);
    for (const item of items) {
      const png = readFileSync(store.absolutePath(item.imagePath));
      assert.equal(decode(png).width, 300);
      assert.deepEqual(readPngParameters(png).request, item.request);
      const thumb = decode(readFileSync(store.absolutePath(item.thumbnailPath!)));
      assert.deepEqual([thumb.width, thumb.height], [256, 256]);
      assert.equal(store.get(item.id)?.timingsMs.total, 170);
    }
    assert.deepEqual(store.reuse(items[1]!.id), { ...request, seed: 41, batchSize: 1 });
    assert.deepEqual(store.list().items.map((i) => i.batchIndex), [0, 1, 2], 'a batch shows in its own order');
  });

  it('saves an image encoded elsewhere (the inference process) as it saves pixels: same pixels, metadata, thumbnail', async (t) => {
    const store = await openHistory({ dataDir: tempDir(t) });
    t.after(() => store.close());
    const image = randomImage(300, 200, 7);
    const encoded = await encodeForHistory({ width: 300, height: 200, channels: 3, data: image.pixels });
    const request = makeRequest({ seed: 7 });
    const [fromPixels] = await store.saveGeneration({ ...saveInput(request), images: [image] });
    const [fromPng] = await store.saveGeneration({ ...saveInput(request), images: [{ encoded, width: 300, height: 200, channels: 3, batchIndex: 0 }] });
    const files = [fromPixels!, fromPng!].map((item) => readFileSync(store.absolutePath(item.imagePath)));
    assert.deepEqual(decode(files[1]!).data, decode(files[0]!).data);
    assert.deepEqual(readPngParameters(files[1]!).request, fromPixels!.request);
    assert.equal(files[1]!.length, files[0]!.length, 'same chunks, same sizes (only the ids differ)');
    assert.deepEqual(readFileSync(store.absolutePath(fromPng!.thumbnailPath!)), readFileSync(store.absolutePath(fromPixels!.thumbnailPath!)));
  });

  it('rejects a bad image without leaving a file or a row', async (t) => {
    const dir = tempDir(t);
    const store = await openHistory({ dataDir: dir });
    t.after(() => store.close());
    const input = saveInput(makeRequest({ batchSize: 2 }));
    input.images[1] = { ...(input.images[1] as PixelImage), pixels: new Uint8Array(10) };
    await assert.rejects(store.saveGeneration(input), /image 1 has 10 bytes, expected 32x32x3/);
    assert.equal(store.count(), 0);
    const files = readdirSync(join(dir, 'images'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.deepEqual(files, []);
  });

  it('lists newest first with cursor pages, filters and prompt search', async (t) => {
    const store = await openHistory({ dataDir: tempDir(t) });
    t.after(() => store.close());
    const ids = await fillGallery(store, 30);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = store.list({ limit: 7, cursor });
      assert.equal(page.total, 30);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    // fillGallery saves batches of 4, a minute apart: newest batch first, each batch in its own order.
    const batches = Array.from({ length: Math.ceil(ids.length / 4) }, (_, b) => ids.slice(b * 4, b * 4 + 4));
    assert.deepEqual(seen, batches.reverse().flat());
    assert.equal(new Set(seen).size, 30);

    const fox = store.list({ search: 'fox' });
    assert.ok(fox.total > 0 && fox.items.every((i) => /fox/.test(i.request.prompt)));
    assert.equal(store.list({ search: 'mounta' }).total, store.list({ search: 'mountain' }).total, 'prefix match');
    assert.equal(store.count({ search: '"; DROP TABLE images; --' }), 0);
    const dream = store.list({ baseModelId: 'dreamshaper' });
    assert.ok(dream.total > 0 && dream.items.every((i) => i.request.baseModelId === 'dreamshaper'));
    const window = store.list({ since: '2026-01-01T12:10:00Z', until: '2026-01-01T12:20:00Z' });
    assert.ok(window.items.every((i) => i.createdAt >= '2026-01-01T12:10:00.000Z' && i.createdAt < '2026-01-01T12:20:00.000Z'));
    assert.ok(window.total > 0 && window.total < 30);
    assert.throws(() => store.list({ since: 'yesterday-ish' }), InvalidQueryError);
    assert.throws(() => store.list({ cursor: 'garbage' }), /cursor is not valid/);
    assert.throws(() => store.list({ limit: 0 }), /limit must be/);
  });

  it('finds prompts in any language', async (t) => {
    const store = await openHistory({ dataDir: tempDir(t) });
    t.after(() => store.close());
    await store.saveGeneration(saveInput(makeRequest({ prompt: 'un château près de la rivière' })));
    await store.saveGeneration(saveInput(makeRequest({ prompt: 'Кот в сапогах' })));
    assert.equal(store.count({ search: 'chateau' }), 1, 'diacritics ignored');
    assert.equal(store.count({ search: 'кот' }), 1, 'case folded');
  });

  it('favourites, tags, delete with undo, and purge', async (t) => {
    const dir = tempDir(t);
    const store = await openHistory({ dataDir: dir });
    const [a, b, c] = await fillGallery(store, 3);
    assert.equal(store.setFavourite(b!, true).favourite, true);
    assert.deepEqual(store.list({ favouritesOnly: true }).items.map((i) => i.id), [b]);
    assert.deepEqual(store.setTags(a!, ['keep', ' keep ', 'Print']).tags.sort(), ['Print', 'keep']);

    const receipt = store.delete([a!, b!]);
    assert.equal(receipt.deleted, 2);
    assert.equal(store.count(), 1);
    assert.equal(store.get(a!), null);
    assert.throws(() => store.setFavourite(a!, false), /no history item/);
    const undone = store.undoDelete(receipt.undoToken);
    assert.equal(undone.restored, 2);
    assert.deepEqual(undone.ids.sort(), [a!, b!].sort());
    assert.deepEqual(store.undoDelete(receipt.undoToken), { restored: 0, ids: [] }, 'undo is one-shot');
    assert.equal(store.get(b!)?.favourite, true);
    assert.deepEqual(store.get(a!)?.tags.sort(), ['Print', 'keep']);

    const item = store.get(c!)!;
    store.delete([c!]);
    assert.deepEqual(await store.purgeDeleted(), { purged: 1 });
    assert.equal(existsSync(store.absolutePath(item.imagePath)), false);
    assert.equal(existsSync(store.absolutePath(item.thumbnailPath!)), false);
    assert.equal(store.count(), 2);

    store.delete([a!]);
    store.db.prepare("UPDATE images SET deleted_at = '2020-01-01T00:00:00.000Z' WHERE id = ?").run(a!);
    store.delete([b!]);
    store.close();
    const reopened = await openHistory({ dataDir: dir });
    t.after(() => reopened.close());
    assert.equal(reopened.startupPurged, 1, 'only the item deleted more than 30 days ago');
    assert.equal((reopened.db.prepare('SELECT count(*) AS n FROM images WHERE id = ?').get(b!) as { n: number }).n, 1);
  });

  it('imports A1111 PNGs and our own exported PNGs', async (t) => {
    const dir = tempDir(t);
    const store = await openHistory({ dataDir: dir });
    t.after(() => store.close());
    const a1111 = insertAfterHeader(
      encode({ width: 64, height: 48, data: randomImage(64, 48, 3).pixels, channels: 3, depth: 8 }),
      [textChunk('parameters', 'a lighthouse at dusk\nNegative prompt: fog\nSteps: 4, Sampler: LCM, CFG scale: 1, Seed: 99, Size: 64x48, Model: dreamshaper_8')],
    );
    const imported = await store.importPng(a1111);
    assert.equal(imported.source, 'a1111');
    assert.equal(imported.item.request.prompt, 'a lighthouse at dusk');
    assert.equal(imported.item.request.baseModelId, 'dreamshaper_8');
    assert.equal(imported.item.provider, 'imported (a1111)');
    const stored = readFileSync(store.absolutePath(imported.item.imagePath));
    assert.equal(readPngParameters(stored).source, 'yoso', 'our chunk added');
    assert.match(decode(stored).text.parameters!, /^a lighthouse at dusk/, 'their text kept');

    const [ours] = await store.saveGeneration(saveInput(makeRequest({ prompt: 'copy me', seed: 5 })));
    const file = join(dir, 'elsewhere.png');
    copyFileSync(store.absolutePath(ours!.imagePath), file);
    const again = await store.importPng(file);
    assert.equal(again.source, 'yoso');
    assert.notEqual(again.item.id, ours!.id);
    assert.deepEqual(again.item.request, ours!.request);
    await assert.rejects(store.importPng(encode({ width: 2, height: 2, data: new Uint8Array(12), channels: 3, depth: 8 })), /no generation parameters/);
  });

  it('reconciles: flags missing files, re-imports orphans, removes dead temp files, rebuilds thumbnails', async (t) => {
    const dir = tempDir(t);
    let store = await openHistory({ dataDir: dir });
    const [gone, orphan, thumbless] = (await store.saveGeneration(saveInput(makeRequest({ batchSize: 3 })))).map((i) => i);
    const goneBytes = readFileSync(store.absolutePath(gone!.imagePath));
    unlinkSync(store.absolutePath(gone!.imagePath));
    store.db.prepare('DELETE FROM images WHERE id = ?').run(orphan!.id);
    unlinkSync(store.absolutePath(thumbless!.thumbnailPath!));
    const day = join(dir, 'images', gone!.createdAt.slice(0, 10));
    writeFileSync(join(day, 'x.png.tmp-999999999-0badcafe'), 'half');
    writeFileSync(join(day, `y.png.tmp-${process.pid}-0badcafe`), 'live writer');
    writeFileSync(join(day, 'notes.txt'), 'user file');
    writeFileSync(join(dir, 'thumbnails', 'stray.png'), 'x');
    store.close();

    store = await openHistory({ dataDir: dir });
    t.after(() => store.close());
    const report = store.startupReconcile!;
    assert.deepEqual(report.missing, [gone!.id]);
    assert.deepEqual(report.reimported, [orphan!.id], 'same id from the embedded metadata');
    assert.deepEqual(report.removedTempFiles.map((f) => f.split('/').pop()), ['x.png.tmp-999999999-0badcafe']);
    assert.ok(existsSync(join(day, `y.png.tmp-${process.pid}-0badcafe`)), "a live writer's temp file is left alone");
    assert.deepEqual(report.unreadable.map((f) => f.split('/').pop()), ['notes.txt']);
    assert.ok(existsSync(join(day, 'notes.txt')));
    assert.equal(report.thumbnailsRebuilt, 1);
    assert.deepEqual(report.removedThumbnails, ['thumbnails/stray.png']);
    assert.equal(store.get(gone!.id)?.missing, true, 'shown, flagged');
    assert.deepEqual(store.get(orphan!.id)?.request, orphan!.request);
    assert.equal(store.get(orphan!.id)?.createdAt, orphan!.createdAt);

    writeFileSync(store.absolutePath(gone!.imagePath), goneBytes);
    const second = await store.reconcile();
    assert.deepEqual(second.found, [gone!.id]);
    assert.equal(store.get(gone!.id)?.missing, false);
  });

  it('reconcile in the background: a save made meanwhile waits for it, so neither sees the other half-done', async (t) => {
    const dir = tempDir(t);
    let store = await openHistory({ dataDir: dir, reconcile: false });
    const orphans = await fillGallery(store, 40);
    store.db.prepare('DELETE FROM images').run();
    store.close();

    store = await openHistory({ dataDir: dir, reconcile: 'background' });
    t.after(() => store.close());
    assert.equal(store.startupReconcile, null, 'open does not wait for the reconcile');
    const order: string[] = [];
    void store.reconciled.then(() => order.push('reconciled'));
    const [saved] = await store.saveGeneration(saveInput(makeRequest({ seed: 5 })));
    order.push('saved');
    const report = (await store.reconciled)!;
    assert.deepEqual(order, ['reconciled', 'saved']);
    assert.deepEqual([...report.reimported].sort(), [...orphans].sort(), 'the new save is not taken for an orphan');
    assert.deepEqual(report.missing, []);
    assert.equal(store.count(), orphans.length + 1);
    assert.equal(store.get(saved!.id)?.missing, false);
  });

  it('serves the first page and a search from indexes on 10,000 rows', async (t) => {
    const store = await openHistory({ dataDir: tempDir(t), reconcile: false });
    t.after(() => store.close());
    const base = makeRequest();
    const input = saveInput(base);
    const rows = Array.from({ length: 10_000 }, (_, n) => {
      const request = { ...base, prompt: `prompt ${n} ${n % 10 === 0 ? 'lighthouse' : 'meadow'}`, seed: n };
      const meta = imageMetadata(input, request, 0, `id-${n}`, new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(), 'b');
      return rowFromMetadata(meta, `images/${n}.png`, null);
    });
    store.insertRows(rows);
    const plan = (sql: string, ...params: unknown[]) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    const firstPage = plan('SELECT * FROM images i WHERE i.deleted_at IS NULL ORDER BY i.created_at DESC, i.rowid DESC LIMIT 101');
    assert.match(firstPage, /USING (COVERING )?INDEX images_live_by_time/);
    assert.doesNotMatch(firstPage, /TEMP B-TREE/);
    const favourites = plan('SELECT * FROM images i WHERE i.deleted_at IS NULL AND i.favourite = 1 ORDER BY i.created_at DESC, i.rowid DESC LIMIT 101');
    assert.match(favourites, /images_live_favourites/);
    assert.match(plan('SELECT count(*) FROM images i WHERE i.deleted_at IS NULL'), /INDEX images_live_by_time/);
    assert.equal(store.list({ search: 'lighthouse', limit: 50 }).total, 1000);
    assert.equal(store.list({ limit: 100 }).items[0]!.id, 'id-9999');
  });
});
