// history.*, export.* and models.* handlers through the transport boundary (dispatch) on a real
// SQLite history and a real models folder; events checked on the bus.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExportReport, HistoryItem, InstalledModel } from '../contract/api.ts';
import { startTestStudio, tinyRequest, type TestStudio } from '../test/studio-fixture.ts';
import { dispatch } from './dispatch.ts';
import type { AnyEvent } from './events.ts';

describe('library handlers', () => {
  let t: TestStudio;
  const events: AnyEvent[] = [];
  let ids: string[];
  before(async () => {
    t = await startTestStudio({ lora: true });
    t.studio.events.subscribe((e) => events.push(e));
    const pixels = new Uint8Array(64 * 64 * 3).fill(128);
    const saved = await t.studio.history.saveGeneration({
      request: tinyRequest({ prompt: 'a blue heron', batchSize: 2 }),
      images: [0, 1].map((batchIndex) => ({ pixels, width: 64, height: 64, channels: 3 as const, batchIndex })),
      provider: 'cpu',
      timingsMs: { total: 1 },
      baseModel: { id: 'tiny' },
    });
    ids = saved.map((i) => i.id);
  });
  after(() => t.close());

  const call = async (name: string, input: unknown) => {
    const result = await dispatch(t.studio.handlers, name, input);
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.output as any;
  };

  test('list, favourite, delete and undo go through and announce changes', async () => {
    const page = await call('history.list', { search: 'heron' });
    assert.equal(page.total, 2);
    HistoryItem.parse(page.items[0]);
    const fav = await call('history.setFavourite', { id: ids[0], favourite: true });
    assert.equal(fav.favourite, true);
    assert.equal((await call('history.list', { favouritesOnly: true })).total, 1);
    const { undoToken } = await call('history.delete', { ids: [ids[1]] });
    assert.equal((await call('history.list', {})).total, 1);
    assert.deepEqual(await call('history.undoDelete', { undoToken }), { restored: 1 });
    assert.equal((await call('history.list', {})).total, 2);
    const changed = events.filter((e) => e.name === 'history.changed').map((e) => e.payload);
    assert.deepEqual(changed, [{ ids: [ids[0]] }, { ids: [ids[1]] }, { ids: [ids[1]] }]);
    const reuse = await call('history.reuse', { id: ids[1] });
    assert.equal(reuse.seed, 43);
    await assert.rejects(call('history.get', { id: 'missing' }), { code: 'not_found' });
  });

  test('readPngParameters reads our own PNG back; a non-PNG is invalid input', async () => {
    const item = t.studio.history.get(ids[0]!)!;
    const png = (await import('node:fs')).readFileSync(t.studio.history.absolutePath(item.imagePath));
    const parsed = await call('history.readPngParameters', { pngBase64: png.toString('base64') });
    assert.equal(parsed.source, 'yoso');
    assert.equal(parsed.request.prompt, 'a blue heron');
    await assert.rejects(call('history.readPngParameters', { pngBase64: Buffer.from('nope').toString('base64') }), { code: 'invalid_input' });
  });

  test('export runs in the background and reports through export.updated', async () => {
    const to = join(t.root, 'out');
    const done = new Promise<ExportReport>((resolve) =>
      t.studio.events.subscribe((e) => e.name === 'export.updated' && e.payload.state !== 'running' && resolve(e.payload)),
    );
    const { exportId } = await call('export.start', { selection: { ids }, to });
    const report = ExportReport.parse(await done);
    assert.equal(report.id, exportId);
    assert.equal(report.state, 'done');
    assert.equal(report.exported, 2);
    assert.equal(readdirSync(to).filter((f) => f.endsWith('.png')).length, 2);
    await assert.rejects(call('export.start', { selection: { ids }, to: 'relative/out' }), { code: 'invalid_input' });
    await assert.rejects(call('export.cancel', { exportId: 'nope' }), { code: 'not_found' });
  });

  test('models.list shows a linked standard-layout folder; import refuses a bad file; remove needs a real model', async () => {
    const models = (await call('models.list', {})).map((m: unknown) => InstalledModel.parse(m));
    assert.deepEqual(models.map((m: InstalledModel) => [m.id, m.kind]), [['tiny', 'base'], ['tiny-style', 'lora']]);
    const bogus = join(t.root, 'not-a-lora.safetensors');
    writeFileSync(bogus, 'not safetensors');
    await assert.rejects(call('models.import', { path: bogus }), { code: 'invalid_input' });
    await assert.rejects(call('models.remove', { id: 'tiny', confirm: true }), { code: 'not_found' });
    assert.ok(existsSync(join(t.modelsDir, 'tiny', 'unet', 'model.onnx')), 'the linked model is untouched');
    await assert.rejects(call('models.remove', { id: 'tiny' }), { code: 'invalid_input' });
  });
});
