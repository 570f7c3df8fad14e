import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { decode } from 'fast-png';
import { TINY_SD15 } from '../test/fixtures.ts';
import { psnr, referenceCases } from '../test/reference-cases.ts';

const script = resolve(import.meta.dirname, 'generate.ts');
const work = mkdtempSync(join(tmpdir(), 'yoso-generate-'));
after(() => rmSync(work, { recursive: true, force: true }));

function generate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rgbOf = (path: string) => new Uint8Array(decode(readFileSync(path)).data as Uint8Array);
const floats = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

for (const c of referenceCases((c) => !c.json.parameters.lora_file)) {
  test(`reproduces fixture case ${c.name}, with --dump`, () => {
    const p = c.json.parameters;
    const batch = p.num_images_per_prompt;
    const out = join(work, `${c.name}.png`);
    const dump = join(work, `${c.name}-dump`);
    const args = ['--model', TINY_SD15(), '--prompt', p.prompt, '--seed', String(p.seed), '--steps', String(p.num_inference_steps),
      '--guidance', String(p.guidance_scale), '--width', String(p.width), '--height', String(p.height), '--provider', 'cpu',
      '--dump', dump, '--out', out];
    // The fixture's batch is diffusers' num_images_per_prompt draw: one generator for the batch.
    if (batch > 1) args.push('--batch', String(batch), '--shared-noise');
    const r = generate(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^seed ${p.seed}`, 'm'));
    assert.match(r.stdout, /^provider cpu \(requested cpu\)$/m);
    assert.match(r.stdout, /timings .*text .*unet .*vae .*png .*total .*inside onnxruntime .*overhead/);

    const files = batch > 1 ? Array.from({ length: batch }, (_, i) => join(work, `${c.name}-${i}.png`)) : [out];
    files.forEach((file, i) => {
      assert.ok(psnr(rgbOf(file), c.png(batch > 1 ? `image_${i}.png` : 'image.png').rgb) >= 50, file);
    });
    if (batch > 1) assert.ok(!existsSync(out));

    const tokens = JSON.parse(readFileSync(join(dump, 'tokens.json'), 'utf8'));
    assert.deepEqual(tokens, { cond: c.json.token_ids.cond, uncond: c.json.token_ids.uncond ?? null, dropped: 0 });
    const shapes = JSON.parse(readFileSync(join(dump, 'latents.json'), 'utf8'));
    assert.deepEqual(shapes.initial_latents.shape, [batch, 4, 8, 8]);
    assert.deepEqual(shapes.final_latents.shape, [batch, 4, 8, 8]);
    assert.deepEqual(floats(join(dump, 'initial_latents.bin')), c.array('initial_latents'));
    const final = floats(join(dump, 'final_latents.bin'));
    const ref = c.array(`step${p.num_inference_steps - 1}_latents`);
    assert.ok(final.every((v, i) => Math.abs(v - ref[i]!) <= 2e-4));
  });
}

test('--json prints one object with files, seeds and figures; a batch writes FILE-0.png …', () => {
  const out = join(work, 'fox.png');
  const r = generate(['--model', TINY_SD15(), '--prompt', 'a red fox', '--seed', '18446744073709551615', '--batch', '2',
    '--width', '64', '--height', '64', '--provider', 'cpu', '--json', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines.at(-1)!);
  assert.deepEqual(summary.images.map((i: { file: string }) => i.file), [join(work, 'fox-0.png'), join(work, 'fox-1.png')]);
  // Per-image seeds wrap around at 2^64, like any unsigned 64-bit counter.
  assert.deepEqual(summary.images.map((i: { seed: string }) => i.seed), ['18446744073709551615', '0']);
  assert.ok(summary.timings.overhead >= 1 && summary.timings.ortMs > 0);
  for (const file of summary.images.map((i: { file: string }) => i.file)) assert.ok(existsSync(file));
});

test('bad input exits non-zero with one line on stderr', () => {
  const empty = join(work, 'empty-model');
  mkdirSync(empty);
  const brokenModel = join(work, 'no-unet');
  mkdirSync(brokenModel);
  for (const entry of ['model_index.json', 'text_encoder', 'vae_decoder', 'tokenizer', 'scheduler']) {
    symlinkSync(join(TINY_SD15(), entry), join(brokenModel, entry));
  }
  const base = ['--prompt', 'cat', '--width', '64', '--height', '64'];
  const cases: Array<[string[], RegExp]> = [
    [['--model', empty, ...base, '--out', join(work, 'a.png')], /model_index\.json: missing/],
    [['--model', brokenModel, ...base, '--out', join(work, 'a.png')], /unet[/\\]model\.onnx: missing; expected the unet ONNX graph/],
    [['--model', TINY_SD15(), ...base, '--steps', '9', '--out', join(work, 'a.png')], /--steps must be an integer from 1 to 8/],
    [['--model', TINY_SD15(), '--prompt', 'cat', '--width', '96', '--height', '64', '--out', join(work, 'a.png')], /width must be a multiple of 64/],
    [['--model', TINY_SD15(), ...base, '--out', join(work, 'missing-dir', 'a.png')], /output folder .* does not exist/],
    [['--model', TINY_SD15(), ...base, '--out', join(work, 'a.jpg')], /--out must end in \.png/],
    [['--model', TINY_SD15(), ...base, '--provider', 'tpu', '--out', join(work, 'a.png')], /--provider must be one of auto, cpu/],
    [['--model', TINY_SD15(), '--out', join(work, 'a.png')], /--prompt TEXT is required/],
    [['--model', TINY_SD15(), ...base, '--seed', '-1', '--out', join(work, 'a.png')], /--seed/],
  ];
  for (const [args, message] of cases) {
    const r = generate(args);
    assert.notEqual(r.code, 0, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
    assert.match(lines[0]!, /^error: /);
  }
  assert.ok(!existsSync(join(work, 'a.png')));
});
