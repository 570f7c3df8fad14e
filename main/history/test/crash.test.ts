// Crash safety: a child saving batches is killed with SIGKILL at random moments. After each kill the
// database must be intact, every row's image must decode, reconcile must account for every file,
// and every image the child had reported saved must be there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { openHistory } from '../index.ts';
import { tempDir } from './factories.ts';

const TRIALS = 20;
const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

function filesUnder(dir: string, root: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'));
}

/** Runs the child until `killAfterMs` after it is ready, kills it, returns the ids it reported saved. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<{ ids: string[]; batches: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!out.includes('ready\n') && (out + chunk).includes('ready\n')) setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      out += chunk;
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    proc.on('error', reject);
    proc.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited without being killed: ${err}`));
      // Only whole lines count: a line cut by the kill was never fully reported.
      const lines = out.split('\n').slice(0, -1).filter((l) => l.startsWith('saved '));
      resolve({ ids: lines.flatMap((l) => l.slice(6).split(',')), batches: lines.length });
    });
  });
}

it(`loses nothing the app reported saved across ${TRIALS} SIGKILLs`, { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir(t, 'yoso-crash-');
  const reported = new Set<string>();
  let reimported = 0;
  let tempsRemoved = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const { ids } = await runAndKill(dataDir, Math.random() * 400);
    ids.forEach((id) => reported.add(id));

    const store = await openHistory({ dataDir });
    try {
      const report = store.startupReconcile!;
      reimported += report.reimported.length;
      tempsRemoved += report.removedTempFiles.length;
      assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok', `trial ${trial}`);
      assert.deepEqual(report.missing, [], 'no row may point at a file that was never completed');
      assert.deepEqual(report.unreadable, [], 'no half-written PNG under a final name');
      const rows = store.db.prepare('SELECT id, image_path, thumbnail_path FROM images').all() as Array<{
        id: string;
        image_path: string;
        thumbnail_path: string;
      }>;
      for (const row of rows) {
        const png = decode(readFileSync(store.absolutePath(row.image_path)));
        assert.equal(png.width, 96);
        decode(readFileSync(store.absolutePath(row.thumbnail_path)));
      }
      const ids = new Set(rows.map((r) => r.id));
      for (const id of reported) assert.ok(ids.has(id), `reported saved but lost: ${id} (trial ${trial})`);
      const claimed = new Set(rows.flatMap((r) => [r.image_path, r.thumbnail_path]));
      const stray = [...filesUnder('images', dataDir), ...filesUnder('thumbnails', dataDir)].filter((f) => !claimed.has(f));
      assert.deepEqual(stray, [], 'every file on disk belongs to a row after reconcile');
    } finally {
      store.close();
    }
  }
  t.diagnostic(`${reported.size} images reported saved over ${TRIALS} kills; reconcile re-imported ${reimported} orphans, removed ${tempsRemoved} temp files`);
  assert.ok(reported.size > 0, 'the child saved something');
});
