import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { decode } from 'fast-png';
import yauzl from 'yauzl';
import { openHistory, type HistoryStore } from '../history/index.ts';
import { fillGallery, tempDir } from '../history/test/factories.ts';
import { readPngParameters, readPngText } from '../png-metadata/index.ts';
import { exportImages, type ExportOptions } from './export.ts';
import { renderName, safeSegment, TemplateError, validateTemplate } from './file-names.ts';

async function readZip(path: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (d: Buffer) => parts.push(d)).on('end', () => {
          entries.set(entry.fileName, Buffer.concat(parts));
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => resolve()).on('error', reject);
    zip.readEntry();
  });
  return entries;
}

/** Minimal RFC 4180 reader for the manifest (quoted fields with commas, quotes, newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r') continue;
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += ch;
  }
  return rows;
}

const allFiles = (dir: string) => readdirSync(dir).sort();
const noLeftovers = (dir: string) => allFiles(dir).filter((f) => /\.part-|\.tmp-/.test(f));

describe('export of 500 images', () => {
  let store: HistoryStore;
  let dir: string;
  before(async () => {
    dir = tempDir({ after: (fn: () => void) => process.once('exit', fn) }, 'yoso-export-');
    store = await openHistory({ dataDir: join(dir, 'data') });
    await fillGallery(store, 500);
    process.once('exit', () => store.close());
  });

  it('writes a streamed zip with every image, its metadata and a manifest', async () => {
    const to = join(dir, 'all.zip');
    const progress: number[] = [];
    const result = await exportImages(store, { selection: { query: {} }, to, onProgress: (p) => progress.push(p.done) });
    assert.equal(result.state, 'done', result.error ?? '');
    assert.equal(result.exported.length, 500);
    assert.equal(progress.at(-1), 500);
    const entries = await readZip(to);
    assert.equal(entries.size, 502);
    const csv = parseCsv(entries.get('manifest.csv')!.toString('utf8'));
    assert.deepEqual(csv[0], ['file', 'prompt', 'negative', 'seed', 'steps', 'guidance', 'size', 'model', 'lora', 'scale', 'created']);
    assert.equal(csv.length, 501);
    const json = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { images: Array<{ file: string; seed: number; prompt: string }> };
    assert.equal(json.images.length, 500);
    for (const [i, row] of json.images.entries()) {
      const png = entries.get(row.file);
      assert.ok(png, `manifest names ${row.file}`);
      const parsed = readPngParameters(png);
      assert.equal(parsed.request.seed, row.seed);
      assert.equal(parsed.request.prompt, row.prompt);
      assert.equal(csv[i + 1]![0], row.file);
    }
    assert.match(json.images[0]!.file, /^001-\d+-[^/\\]+\.png$/);
    assert.deepEqual(noLeftovers(dir), []);
  });

  it('writes a folder with metadata stripped, and never overwrites on a second run', async () => {
    const to = join(dir, 'folder');
    const first = await exportImages(store, { selection: { query: { search: 'fox' } }, to, stripMetadata: true, nameTemplate: '{seed}' });
    assert.equal(first.state, 'done');
    assert.ok(first.exported.length > 0);
    for (const { file, id } of first.exported) {
      assert.equal(statSync(join(to, file)).mtime.toISOString(), store.get(id)!.createdAt, 'file time = creation time');
      const bytes = readFileSync(join(to, file));
      assert.deepEqual(readPngText(bytes), {}, 'no text chunks');
      assert.equal(decode(bytes).width, 16);
    }
    const before = new Map(allFiles(to).map((f) => [f, readFileSync(join(to, f))]));
    const second = await exportImages(store, { selection: { query: { search: 'fox' } }, to, nameTemplate: '{seed}' });
    assert.equal(second.state, 'done');
    assert.equal(allFiles(to).length, before.size * 2);
    for (const [f, bytes] of before) assert.deepEqual(readFileSync(join(to, f)), bytes, `${f} untouched`);
    assert.ok(second.exported.every((e) => / \(2\)\.png$/.test(e.file)));
    assert.equal(second.manifest?.csv, 'manifest (2).csv');
    assert.equal(readPngParameters(readFileSync(join(to, second.exported[0]!.file))).source, 'yoso', 'kept this time');
  });

  it('refuses to replace an existing zip and leaves it alone', async () => {
    const to = join(dir, 'exists.zip');
    writeFileSync(to, 'precious');
    const result = await exportImages(store, { selection: { query: {} }, to });
    assert.equal(result.state, 'failed');
    assert.match(result.error!, /already exists; choose another name/);
    assert.equal(readFileSync(to, 'utf8'), 'precious');
  });

  it('cancels without leaving a zip or a half-written file', async () => {
    for (const to of [join(dir, 'cancel.zip'), join(dir, 'cancel-folder')]) {
      const controller = new AbortController();
      const result = await exportImages(store, {
        selection: { query: {} },
        to,
        signal: controller.signal,
        onProgress: (p) => p.done === 50 && controller.abort(),
      });
      assert.equal(result.state, 'cancelled');
      if (to.endsWith('.zip')) {
        assert.equal(existsSync(to), false);
        assert.deepEqual(result.exported, []);
      } else {
        const pngs = allFiles(to).filter((f) => f.endsWith('.png'));
        assert.equal(pngs.length, result.exported.length);
        // Writes already under way when cancel arrives finish (up to 3 more): complete files, all reported.
        assert.ok(result.exported.length >= 50 && result.exported.length <= 53, `${result.exported.length}`);
        assert.deepEqual(pngs, result.exported.map((e) => e.file).sort());
        for (const f of pngs) decode(readFileSync(join(to, f)));
        assert.deepEqual(noLeftovers(to), []);
      }
      assert.deepEqual(noLeftovers(dir), []);
    }
  });
});

describe('export failures', () => {
  async function smallGallery(t: TestContext, count = 8, size?: number) {
    const dir = tempDir(t, 'yoso-export-fail-');
    const store = await openHistory({ dataDir: join(dir, 'data') });
    t.after(() => store.close());
    const ids = await fillGallery(store, count);
    if (size) {
      // Bigger random images so a 1 MiB disk fills up mid-export.
      const { saveInput, makeRequest } = await import('../history/test/factories.ts');
      for (let i = 0; i < count; i++) ids.push(...(await store.saveGeneration(saveInput(makeRequest({ seed: i }), size))).map((x) => x.id));
    }
    return { dir, store, ids };
  }

  it('names the problem when the target is under a file, is a file, or is in /sys', async (t) => {
    const { dir, store } = await smallGallery(t);
    writeFileSync(join(dir, 'plain-file'), 'x');
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'plain-file', 'sub'), /plain-file is a file, not a folder/],
      [join(dir, 'plain-file', 'out.zip'), /plain-file is a file, not a folder/],
      [join(dir, 'plain-file'), /is a file, not a folder/],
      ['/sys/yoso-export-test', /no permission|read-only/],
      ['/sys/yoso-export-test.zip', /no permission|read-only/],
    ];
    for (const [to, message] of cases) {
      const result = await exportImages(store, { selection: { query: {} }, to });
      assert.equal(result.state, 'failed', to);
      assert.match(result.error!, message, to);
      assert.deepEqual(result.exported, []);
    }
    assert.deepEqual(allFiles(dir), ['data', 'plain-file']);
  });

  it('skips a vanished source image, says which, and exports the rest', async (t) => {
    const { dir, store, ids } = await smallGallery(t);
    const gone = store.get(ids[2]!)!;
    unlinkSync(store.absolutePath(gone.imagePath));
    const result = await exportImages(store, { selection: { ids: [...ids, 'no-such-id'] }, to: join(dir, 'out.zip') });
    assert.equal(result.state, 'done');
    assert.equal(result.total, ids.length + 1);
    assert.deepEqual(result.skipped.map((s) => s.id), [gone.id, 'no-such-id']);
    assert.match(result.skipped[0]!.reason, /is gone/);
    assert.match(result.skipped[1]!.reason, /not in the gallery/);
    const entries = await readZip(join(dir, 'out.zip'));
    assert.equal(entries.size, ids.length - 1 + 2);
  });

  /** A small tmpfs (really full, really read-only even for root); skipped where mounting is not allowed. */
  function mountTmpfs(t: TestContext, options: string): string | null {
    const point = mkdtempSync(join(tmpdir(), 'yoso-mnt-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', point], { encoding: 'utf8' });
    t.after(() => {
      if (mounted.status === 0) spawnSync('umount', [point]);
      rmSync(point, { recursive: true, force: true });
    });
    if (mounted.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || '').trim()})`);
      return null;
    }
    return point;
  }

  it('on a full disk: clear error, no zip, folder keeps only complete files and reports them', async (t) => {
    const point = mountTmpfs(t, 'size=1m');
    if (!point) return;
    const { store } = await smallGallery(t, 6, 300);
    const zip = await exportImages(store, { selection: { query: {} }, to: join(point, 'out.zip') });
    assert.equal(zip.state, 'failed');
    assert.match(zip.error!, /disk .* is full/);
    assert.deepEqual(allFiles(point), []);

    const folder = join(point, 'out');
    const result = await exportImages(store, { selection: { query: {} }, to: folder });
    assert.equal(result.state, 'failed');
    assert.match(result.error!, /disk .* is full/);
    const pngs = allFiles(folder).filter((f) => f.endsWith('.png'));
    assert.ok(result.exported.length > 0 && result.exported.length < result.total, `${result.exported.length} exported`);
    assert.deepEqual(pngs, result.exported.map((e) => e.file).sort());
    for (const f of pngs) decode(readFileSync(join(folder, f)));
    assert.deepEqual(noLeftovers(folder), []);
  });

  it('on a read-only file system: clear error and nothing written', async (t) => {
    const point = mountTmpfs(t, 'ro,size=1m');
    if (!point) return;
    const { store } = await smallGallery(t, 2);
    for (const to of [join(point, 'out.zip'), join(point, 'out')]) {
      const result = await exportImages(store, { selection: { query: {} }, to });
      assert.equal(result.state, 'failed');
      assert.match(result.error!, /read-only file system/);
    }
    assert.deepEqual(allFiles(point), []);
  });
});

describe('export file names', () => {
  const item = {
    id: 'abcdef12-3456', createdAt: '2026-11-22T10:00:00.000Z', seed: 42, batchIndex: 0,
    request: { prompt: 'a/b\\c: "d" <e>|f?*  g, h', negativePrompt: '', seed: 42, steps: 1, guidance: 1, width: 512, height: 512, batchSize: 1, sharedNoise: false, baseModelId: 'sd15', lora: null, sampler: 'lcm' as const },
  } as Parameters<typeof renderName>[1];

  it('makes names safe on every platform and pads the index', () => {
    assert.equal(renderName('{index}-{seed}-{prompt}', item, 6, 120), '007-42-a_b_c_d_e_f_g_h');
    assert.equal(safeSegment('CON'), '_CON');
    assert.equal(safeSegment('nul.txt'), '_nul.txt');
    assert.equal(safeSegment('...'), 'image');
    assert.equal(safeSegment('name. . '), 'name');
  });

  it('limits length in bytes without splitting characters', () => {
    const long = renderName('{prompt}-{prompt}-{prompt}', { ...item, request: { ...item.request, prompt: '猫'.repeat(200) } }, 0, 1);
    assert.ok(Buffer.byteLength(long) <= 150);
    assert.doesNotMatch(long, /\uFFFD/);
  });

  it('rejects unknown tokens with the list of valid ones', () => {
    assert.throws(() => validateTemplate('{index}-{sed}'), (e: Error) => e instanceof TemplateError && /\{sed\}.*\{seed\}/.test(e.message));
    assert.throws(() => validateTemplate('  '), TemplateError);
  });

  it('rejects a bad template before touching the target', async (t) => {
    const dir = tempDir(t);
    const store = await openHistory({ dataDir: join(dir, 'data') });
    t.after(() => store.close());
    const options: ExportOptions = { selection: { query: {} }, to: join(dir, 'never'), nameTemplate: '{nope}' };
    await assert.rejects(exportImages(store, options), TemplateError);
    assert.equal(existsSync(join(dir, 'never')), false);
    mkdirSync(join(dir, 'x'));
  });
});
