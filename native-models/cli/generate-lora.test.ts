import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { decode } from 'fast-png';
import { fixturePath, TINY_SD15 } from '../test/fixtures.ts';
import { psnr, referenceCases } from '../test/reference-cases.ts';

const script = resolve(import.meta.dirname, 'generate.ts');
const work = mkdtempSync(join(tmpdir(), 'yoso-generate-lora-'));
after(() => rmSync(work, { recursive: true, force: true }));
const LORA = () => fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors');

function generate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const common = ['--model', TINY_SD15(), '--width', '64', '--height', '64', '--provider', 'cpu'];

test('--lora --lora-scale reproduces the fixture LoRA case', () => {
  const [c] = referenceCases((c) => c.name === 'cat_g1.5_s4_seed1234_lora0.5');
  assert.ok(c);
  const out = join(work, 'cat.png');
  const r = generate([...common, '--prompt', 'a photo of a cat', '--seed', '1234', '--steps', '4', '--guidance', '1.5',
    '--lora', LORA(), '--lora-scale', '0.5', '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(json.lora.applied, { unet: 277, text_encoder: 0 });
  assert.deepEqual(json.lora.unmatchedKeys, []);
  const rgb = new Uint8Array(decode(readFileSync(out)).data as Uint8Array);
  assert.ok(psnr(rgb, c.png('image.png').rgb) >= 50);
});

test('a truncated LoRA file is one clear error line and no image', () => {
  const cut = join(work, 'cut.safetensors');
  const bytes = readFileSync(LORA());
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  const out = join(work, 'never.png');
  const r = generate([...common, '--prompt', 'x', '--lora', cut, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .*cut\.safetensors is not a valid \.safetensors file: .*truncated.*\n$/);
  assert.throws(() => readFileSync(out));
});
