// History and export figures: `npm run bench:history [-- --rows 10000 --export 1000 --size 512]`.
// Prints times for the gallery's first page and searches on a 10,000-row database, the cost of a
// real save (encode + thumbnail + fsync + commit), and export throughput and peak memory.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportImages } from '../export/index.ts';
import { openHistory } from './index.ts';
import { rowFromMetadata } from './rows.ts';
import { imageMetadata } from './store.ts';
import { makeRequest, saveInput } from './test/factories.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10000' }, export: { type: 'string', default: '1000' }, size: { type: 'string', default: '512' } },
});
const ROWS = Number(values.rows);
const EXPORT = Number(values.export);
const SIZE = Number(values.size);

const WORDS = ['fox', 'castle', 'river', 'portrait', 'neon', 'forest', 'robot', 'sunset', 'cat', 'mountain', 'ocean', 'city', 'glass', 'dragon', 'garden', 'storm'];

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(label: string, fn: () => unknown, runs = 21) {
  const first = performance.now();
  fn();
  const cold = performance.now() - first;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  console.log(`  ${label.padEnd(44)} first ${cold.toFixed(2).padStart(7)} ms   median ${median(ms).toFixed(2).padStart(7)} ms`);
}

/** Smooth colour fields plus mild noise: compresses like a real SD image (~1-1.5 bytes/pixel). */
function imageLike(size: number, seed: number) {
  const pixels = new Uint8Array(size * size * 3);
  let s = seed || 1;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let c = 0; c < 3; c++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const base = 128 + 100 * Math.sin((x * (c + 1)) / 37 + seed) * Math.cos((y * (3 - c)) / 53);
        pixels[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, base + ((s >>> 28) - 8)));
      }
  return pixels;
}

const root = mkdtempSync(join(tmpdir(), 'yoso-bench-'));
try {
  console.log(`history bench (${ROWS} rows; export of ${EXPORT} images of ${SIZE}x${SIZE}); data in ${root}`);
  const store = await openHistory({ dataDir: join(root, 'data'), reconcile: false });
  const base = makeRequest();
  const input = saveInput(base);
  const rows = Array.from({ length: ROWS }, (_, n) => {
    const prompt = `${WORDS[n % 16]} ${WORDS[(n * 7) % 16]} ${WORDS[(n * 13 + 5) % 16]}, detailed, number ${n}`;
    const request = { ...base, prompt, seed: n, baseModelId: n % 4 === 0 ? 'dreamshaper' : 'sd15' };
    const meta = imageMetadata(input, request, 0, `row-${n}`, new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(), `b${n}`);
    return rowFromMetadata(meta, `images/bench/${n}.png`, null);
  });
  let t = performance.now();
  store.insertRows(rows);
  console.log(`  insert ${ROWS} rows in one transaction: ${(performance.now() - t).toFixed(0)} ms`);
  store.db.prepare("UPDATE images SET favourite = 1 WHERE rowid % 50 = 0").run();

  console.log('queries (page of 100 items, including the total count):');
  time('first page, newest first', () => store.list({ limit: 100 }));
  let cursor: string | undefined;
  for (let p = 0; p < 50; p++) cursor = store.list({ limit: 100, cursor }).nextCursor ?? undefined;
  time('page 51 (keyset cursor)', () => store.list({ limit: 100, cursor }));
  time('search "castle" (1 in ~5 rows match)', () => store.list({ search: 'castle', limit: 100 }));
  time('search "number 4242" (1 row)', () => store.list({ search: 'number 4242', limit: 100 }));
  time('search prefix "drag"', () => store.list({ search: 'drag', limit: 100 }));
  time('favourites only', () => store.list({ favouritesOnly: true, limit: 100 }));
  time('model filter + date range', () => store.list({ baseModelId: 'dreamshaper', since: '2026-01-02T00:00:00Z', until: '2026-01-05T00:00:00Z', limit: 100 }));
  time('count all', () => store.count());

  console.log(`save path (${SIZE}x${SIZE}, PNG encode + metadata + thumbnail + fsync x2 + commit):`);
  const saveMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const request = makeRequest({ seed: i, width: SIZE, height: SIZE });
    const s = performance.now();
    await store.saveGeneration({ ...saveInput(request), images: [{ pixels: imageLike(SIZE, i + 1), width: SIZE, height: SIZE, channels: 3, batchIndex: 0 }] });
    saveMs.push(performance.now() - s);
  }
  console.log(`  median ${median(saveMs).toFixed(0)} ms per image (min ${Math.min(...saveMs).toFixed(0)}, max ${Math.max(...saveMs).toFixed(0)})`);

  // Export set: the 10 saved images copied to EXPORT rows (real files, realistic sizes).
  const saved = store.list({ search: 'fox', limit: 10, since: '2026-06-01T00:00:00Z' }).items;
  const exportRows = Array.from({ length: EXPORT }, (_, n) => {
    const src = saved[n % saved.length]!;
    const path = `images/export/${n}.png`;
    mkdirSync(dirname(store.absolutePath(path)), { recursive: true });
    copyFileSync(store.absolutePath(src.imagePath), store.absolutePath(path));
    const meta = imageMetadata(input, { ...src.request, prompt: `export set ${n} ${src.request.prompt}` }, 0, `exp-${n}`, new Date(Date.UTC(2027, 0, 1) + n * 1000).toISOString(), 'exp');
    return rowFromMetadata(meta, path, null);
  });
  store.insertRows(exportRows);
  const selection = { query: { since: '2027-01-01T00:00:00Z' } };
  const exportBytes = exportRows.reduce((n, r) => n + statSync(store.absolutePath(r.image_path)).size, 0);
  console.log(`export of ${EXPORT} images, ${(exportBytes / 1048576).toFixed(0)} MB of PNG (${(exportBytes / EXPORT / 1024).toFixed(0)} KB each):`);
  for (const [label, to, strip] of [
    ['zip', join(root, 'out.zip'), false],
    ['folder', join(root, 'out'), false],
    ['zip, metadata stripped', join(root, 'stripped.zip'), true],
  ] as const) {
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    t = performance.now();
    const result = await exportImages(store, { selection, to, stripMetadata: strip });
    const seconds = (performance.now() - t) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const mb = (b: number) => (b / 1048576).toFixed(0);
    console.log(
      `  to ${label.padEnd(22)} ${result.exported.length} images in ${seconds.toFixed(2)} s = ${(result.exported.length / seconds).toFixed(0)} images/s ` +
        `(${(exportBytes / 1048576 / seconds).toFixed(0)} MB/s); ` +
        `RSS ${mb(before)} MB before, peak ${mb(peak)} MB (+${mb(peak - before)} MB) [${result.state}]`,
    );
  }
  store.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
