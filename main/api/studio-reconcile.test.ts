// The start-up reconcile runs in the background: the server answers while it re-imports images
// left without rows, and the gallery hears about them (history.changed) when it is done.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openHistory } from '../history/index.ts';
import { DATABASE_FILE, THUMBNAILS_DIR } from '../history/layout.ts';
import { fillGallery } from '../history/test/factories.ts';
import { startTestStudio } from '../test/studio-fixture.ts';

const ORPHANS = 120;

test('the server answers while the reconcile runs; the gallery is told what it re-imported', async () => {
  const t = await startTestStudio({
    http: true,
    // A gallery whose database was lost: every image must be re-imported (thumbnails rebuilt too).
    prepareData: async (dataDir) => {
      const store = await openHistory({ dataDir, reconcile: false });
      await fillGallery(store, ORPHANS);
      store.close();
      for (const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, THUMBNAILS_DIR]) {
        rmSync(join(dataDir, name), { recursive: true, force: true });
      }
    },
  });
  try {
    let reconcileDone = false;
    const changed: string[] = [];
    t.studio.events.subscribe((e) => e.name === 'history.changed' && changed.push(...e.payload.ids));
    void t.studio.reconciled.then(() => (reconcileDone = true));
    const response = await fetch(new URL('api/history.list', t.url!), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(response.status, 200);
    const answeredDuringReconcile = !reconcileDone;
    await t.studio.reconciled;
    assert.ok(answeredDuringReconcile, 'the server answered only after the reconcile');
    assert.equal(changed.length, ORPHANS);
    assert.equal(t.studio.history.count(), ORPHANS);
  } finally {
    await t.close();
  }
});
