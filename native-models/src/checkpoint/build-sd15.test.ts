import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { inspectOnnxModel } from '../onnx/inspect.ts';
import { buildSd15FromCheckpoint, type BuiltSd15 } from './build-sd15.ts';
import { replayCase } from './testing/replay-case.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'yoso-build-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

const build = (file: string, log?: (l: string) => void) =>
  buildSd15FromCheckpoint({
    checkpoint: fixturePath(`tiny-sd15/checkpoint/${file}`),
    cacheDir,
    tokenizerDir: fixturePath('tiny-sd15/tokenizer'),
    configDir: fixturePath('tiny-sd15'),
    log,
  });

const CASES = readdirSync(fixturePath('tiny-sd15/cases')).filter((c) => !c.includes('lora'));

for (const [file, minPsnr, maxUnet] of [
  ['tiny-sd15.safetensors', 50, 1e-4],
  ['tiny-sd15-fp16.safetensors', 40, 2e-2],
] as const) {
  describe(`built from ${file}`, () => {
    let built: BuiltSd15;
    before(async () => {
      built = await build(file);
    });

    test('has the same inputs and outputs as the exported fixture models', async () => {
      for (const part of ['text_encoder', 'unet', 'vae_decoder']) {
        assert.deepEqual(
          await inspectOnnxModel(join(built.dir, part, 'model.onnx')),
          await inspectOnnxModel(fixturePath(`tiny-sd15/${part}/model.onnx`)),
          part,
        );
      }
      for (const f of ['model_index.json', 'scheduler/scheduler_config.json', 'tokenizer/vocab.json', 'tokenizer/merges.txt']) {
        assert.ok(existsSync(join(built.dir, f)), f);
      }
    });

    for (const name of CASES) {
      test(`reproduces ${name} (PSNR >= ${minPsnr} dB)`, async () => {
        const r = await replayCase(built.dir, fixturePath(`tiny-sd15/cases/${name}`));
        assert.ok(r.imagePsnr >= minPsnr, `image PSNR ${r.imagePsnr.toFixed(1)} dB (${JSON.stringify(r)})`);
        assert.ok(r.unetMaxAbs <= maxUnet, `UNet max abs diff ${r.unetMaxAbs}`);
      });
    }
  });
}

test('float32 weights are referenced inside the checkpoint, transposed ones written once', async () => {
  const built = await build('tiny-sd15.safetensors');
  const record = JSON.parse(readFileSync(join(built.dir, 'build.json'), 'utf8')) as {
    stats: Record<string, { referencedBytes: number; copiedBytes: number; links: Record<string, string> }>;
  };
  const unet = record.stats.unet!;
  assert.ok(unet.referencedBytes > 0 && unet.copiedBytes > 0, JSON.stringify(unet));
  assert.deepEqual(Object.values(unet.links), ['hardlink']);
});

test('a second build of the same file comes from the cache', async () => {
  const first = await build('tiny-sd15.safetensors');
  const lines: string[] = [];
  const second = await build('tiny-sd15.safetensors', (l) => lines.push(l));
  assert.equal(second.dir, first.dir);
  assert.equal(second.cached, true);
  assert.match(lines.join('\n'), /built from this checkpoint earlier/);
  assert.equal(first.sha256.length, 64);
});
