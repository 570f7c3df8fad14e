// npm run generate -- --preview FILE.png: TAESD's preview is written beside the image (the decoder is
// given with --preview-decoder, here built from seeded weights); without a decoder, one clear line.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { decode } from 'fast-png';
import { buildTaesdDecoder, randomTaesdWeights } from '../src/graph/taesd-decoder.ts';
import { writeOnnxModel } from '../src/graph/write-onnx.ts';
import { TINY_SD15 } from '../test/fixtures.ts';

const script = resolve(import.meta.dirname, 'generate.ts');
const work = mkdtempSync(join(tmpdir(), 'yoso-generate-preview-'));
after(() => rmSync(work, { recursive: true, force: true }));

const generate = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });
const base = ['--model', TINY_SD15(), '--prompt', 'a red fox', '--seed', '3', '--width', '64', '--height', '64', '--provider', 'cpu'];

test('--preview writes the TAESD preview as well as the image', () => {
  mkdirSync(join(work, 'taesd'));
  writeOnnxModel(buildTaesdDecoder(randomTaesdWeights(2)), join(work, 'taesd'), 'model.onnx');
  const [out, preview] = [join(work, 'fox.png'), join(work, 'fox-preview.png')];
  const r = generate([...base, '--preview', preview, '--preview-decoder', join(work, 'taesd', 'model.onnx'), '--json', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!).previews, [preview]);
  const [full, quick] = [decode(readFileSync(out)), decode(readFileSync(preview))];
  assert.deepEqual([quick.width, quick.height], [full.width, full.height]);
  assert.notDeepEqual(quick.data, full.data, 'the preview is its own decoder\'s picture');
});

test('--preview without a decoder says where to get one', () => {
  const r = generate([...base, '--preview', join(work, 'p.png'), '--out', join(work, 'a.png')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^error: --preview needs TAESD's decoder graph .*taesd_decoder[/\\]model\.onnx does not exist: give --preview-decoder FILE\.onnx .*pull taesd/);
});
