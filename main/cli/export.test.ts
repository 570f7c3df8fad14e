import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openHistory } from '../history/index.ts';
import { fillGallery, tempDir } from '../history/test/factories.ts';

const cli = fileURLToPath(new URL('./export.ts', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', env: { ...process.env, YOSO_STUDIO_DATA: '' } });

it('exports favourites and searches from the command line, with clear usage errors', async (t) => {
  const dir = tempDir(t, 'yoso-cli-');
  const data = join(dir, 'data');
  const store = await openHistory({ dataDir: data });
  const ids = await fillGallery(store, 12);
  store.setFavourite(ids[0]!, true);
  store.setFavourite(ids[5]!, true);
  store.close();

  const fav = run('--data', data, '--favourites', '--to', join(dir, 'fav'), '--name', '{seed}', '--strip-metadata');
  assert.equal(fav.status, 0, fav.stderr);
  assert.match(fav.stdout, /exported 2 of 2 images/);
  assert.deepEqual(readdirSync(join(dir, 'fav')).sort(), ['1000.png', '1005.png', 'manifest.csv', 'manifest.json']);

  const search = run('--data', data, '--search', 'castle', '--since', '2026-01-01', '--to', join(dir, 'castle.zip'));
  assert.equal(search.status, 0, search.stderr);
  assert.match(search.stdout, /exported \d+ of \d+ images to .*castle\.zip/);

  const noTo = run('--data', data);
  assert.equal(noTo.status, 2);
  assert.match(noTo.stderr, /--to is required/);
  const badDate = run('--data', data, '--since', 'last tuesday', '--to', join(dir, 'x'));
  assert.equal(badDate.status, 2);
  assert.match(badDate.stderr, /--since must be a date/);
  const noGallery = run('--data', join(dir, 'nothing-here'), '--to', join(dir, 'y'));
  assert.equal(noGallery.status, 2);
  assert.match(noGallery.stderr, /no gallery in .*nothing-here/);
  const again = run('--data', data, '--to', join(dir, 'castle.zip'));
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists; choose another name/);
});
