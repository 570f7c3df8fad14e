// Closing the studio while an export runs: the export is cancelled, its half-written zip is gone
// and its final report ('cancelled') is out before close() resolves, so the history can close
// under nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ExportReport } from '../contract/api.ts';
import { fillGallery } from '../history/test/factories.ts';
import { startTestStudio } from '../test/studio-fixture.ts';
import { dispatch } from './dispatch.ts';

test('studio.close() cancels a running export and leaves no zip behind', async () => {
  const t = await startTestStudio();
  try {
    const ids = await fillGallery(t.studio.history, 60);
    const reports: ExportReport[] = [];
    t.studio.events.subscribe((e) => e.name === 'export.updated' && reports.push(e.payload));
    const to = join(t.root, 'out', 'gallery.zip');
    const started = await dispatch(t.studio.handlers, 'export.start', { selection: { ids }, to });
    assert.ok(started.ok);
    await t.studio.close();
    const final = reports.at(-1);
    assert.equal(final?.state, 'cancelled', `last report: ${JSON.stringify(final)}`);
    assert.equal(existsSync(to), false);
    assert.deepEqual(existsSync(join(t.root, 'out')) ? readdirSync(join(t.root, 'out')) : [], []);
  } finally {
    rmSync(t.root, { recursive: true, force: true });
  }
});
