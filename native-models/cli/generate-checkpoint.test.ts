// `npm run generate -- --model FILE.safetensors`: the checkpoint is built on first use, reused from
// the cache afterwards (no tokenizer needed then), and a non-SD 1.5 file fails with one clear line.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { decode } from 'fast-png';
import { writeSafetensors } from '../src/checkpoint/testing/write-safetensors.ts';
import { fixturePath } from '../test/fixtures.ts';
import { psnr } from '../test/reference-cases.ts';

const script = resolve(import.meta.dirname, 'generate.ts');
const work = mkdtempSync(join(tmpdir(), 'yoso-generate-ckpt-'));
after(() => rmSync(work, { recursive: true, force: true }));

function generate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, YOSO_MODELS_DIR: join(work, 'models') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CAT = ['--prompt', 'a photo of a cat', '--seed', '318', '--steps', '2', '--guidance', '1.5', '--width', '64', '--height', '64', '--provider', 'cpu'];

test('builds a single-file checkpoint on first use, then reuses it; the image matches diffusers', () => {
  const model = fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors');
  const first = generate(['--model', model, '--tokenizer', fixturePath('tiny-sd15/tokenizer'), '--config', fixturePath('tiny-sd15'), ...CAT, '--out', join(work, 'a.png')]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /building SD 1\.5 ONNX graphs from .*tiny-sd15\.safetensors \(single-file\)\n(.*\n)*sha256 [0-9a-f]{10}: /);
  const second = generate(['--model', model, ...CAT, '--out', join(work, 'b.png')]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /using the model built from this checkpoint earlier/);
  const rgb = (p: string) => new Uint8Array(decode(readFileSync(p)).data as Uint8Array);
  assert.deepEqual(rgb(join(work, 'b.png')), rgb(join(work, 'a.png')));
  assert.ok(psnr(rgb(join(work, 'a.png')), rgb(fixturePath('tiny-sd15/cases/cat_g1.5_s2_seed318/image.png'))) >= 50);
});

test('a checkpoint that is not SD 1.5 fails with one line naming what was found', () => {
  const file = join(work, 'xl.safetensors');
  writeSafetensors(file, { 'conditioner.embedders.1.model.ln_final.weight': { shape: [1] } });
  const r = generate(['--model', file, ...CAT, '--out', join(work, 'c.png')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .*xl\.safetensors is an SDXL checkpoint \(found conditioner\.embedders\.1\.model\.ln_final\.weight\)/m);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
