import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openHistory } from '../index.ts';
import { DATABASE_FILE } from '../layout.ts';
import { LATEST_VERSION, migrate, migrations, schemaVersion } from '../migrations/index.ts';
import { openDatabase } from '../store.ts';
import { tempDir } from './factories.ts';

/** A row as version 1 of the schema stored it (no missing/deleted columns, no tags). */
function insertV1Row(db: ReturnType<typeof openDatabase>, n: number) {
  const request = {
    prompt: `old prompt ${n} lighthouse`, negativePrompt: 'blurry', seed: n, steps: 1, guidance: 1, width: 512, height: 512,
    batchSize: 1, sharedNoise: false, baseModelId: 'sd15', lora: null, sampler: 'lcm',
  };
  db.prepare(
    `INSERT INTO images (id, created_at, prompt, negative_prompt, seed, steps, guidance, width, height, base_model_id,
       base_model_name, provider, batch_id, request_json, image_path)
     VALUES (?, ?, ?, 'blurry', ?, 1, 1, 512, 512, 'sd15', 'SD 1.5', 'cpu', 'b', ?, ?)`,
  ).run(`old-${n}`, `2025-01-0${n}T00:00:00.000Z`, request.prompt, n, JSON.stringify(request), `images/old-${n}.png`);
}

function schemaOf(file: string): string[] {
  const db = openDatabase(file);
  try {
    return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ sql: string | null; name: string }>)
      .map((r) => `${r.name}: ${r.sql ?? ''}`);
  } finally {
    db.close();
  }
}

describe('history schema migrations', () => {
  it('creates a fresh database at the latest version with WAL and foreign keys', async (t) => {
    const dir = tempDir(t);
    const store = await openHistory({ dataDir: dir });
    assert.equal(schemaVersion(store.db), LATEST_VERSION);
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
    store.close();
  });

  it('numbers migrations 1..N without gaps', () => {
    assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
  });

  for (let from = 0; from < LATEST_VERSION; from++) {
    it(`migrates a version ${from} database with data to version ${LATEST_VERSION}`, async (t) => {
      const dir = tempDir(t);
      const file = join(dir, DATABASE_FILE);
      const db = openDatabase(file);
      migrate(db, from);
      assert.equal(schemaVersion(db), from);
      if (from >= 1) for (let n = 1; n <= 3; n++) insertV1Row(db, n);
      db.close();

      const store = await openHistory({ dataDir: dir, reconcile: false });
      assert.equal(schemaVersion(store.db), LATEST_VERSION);
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(store.db.pragma('foreign_key_check'), []);
      if (from >= 1) {
        assert.equal(store.count(), 3);
        assert.deepEqual(store.list({ search: 'lighthouse' }).items.map((i) => i.id), ['old-3', 'old-2', 'old-1']);
        const item = store.setTags('old-1', ['kept']);
        assert.deepEqual(item.tags, ['kept']);
        assert.equal(item.missing, false);
        assert.equal(store.reuse('old-2').seed, 2);
      }
      store.close();

      const fresh = tempDir(t);
      (await openHistory({ dataDir: fresh, reconcile: false })).close();
      assert.deepEqual(schemaOf(file), schemaOf(join(fresh, DATABASE_FILE)), 'same schema as a fresh database');
    });
  }

  it('names the file and the way out when the database is not a database', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, DATABASE_FILE), 'this is not SQLite '.repeat(100));
    await assert.rejects(openHistory({ dataDir: dir }), /history\.sqlite.*move it aside.*re-imported/);
    await assert.rejects(openHistory({ dataDir: join(dir, DATABASE_FILE, 'sub') }), /cannot use .* as the data folder \(ENOTDIR\)/);
  });

  it('refuses a database written by a newer app, naming the fix', async (t) => {
    const dir = tempDir(t);
    const db = openDatabase(join(dir, DATABASE_FILE));
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    await assert.rejects(openHistory({ dataDir: dir }), /newer than this app understands.*update YOSO Studio/);
  });
});
