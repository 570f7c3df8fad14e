// Acceptance of the graph builder: the fixture's own weights as single-file checkpoints (fp32 and
// fp16), built into model folders and run through the app's real pipeline, reproduce every fixture
// case (with and without the YOSO-style LoRA, fused by the LoRA module exactly as into an exported UNet).
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { caseRequest, psnr, referenceCases } from '../../test/reference-cases.ts';
import { applyLora } from '../lora/apply-lora.ts';
import { readLoraFile } from '../lora/lora-file.ts';
import { createPatchedSession } from '../lora/patched-session.ts';
import { inspectOnnxModel } from '../onnx/inspect.ts';
import { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { ModelSession } from '../onnx/session.ts';
import { OnnxUNet } from '../pipeline/components.ts';
import { StableDiffusionPipeline } from '../pipeline/pipeline.ts';
import { buildSd15FromCheckpoint, type BuiltSd15 } from './build-sd15.ts';

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

/** The UNet of `dir` with the fixture LoRA fused at `scale`, by the LoRA module. */
async function loraUnet(dir: string, scale: number): Promise<OnnxUNet> {
  const lora = await readLoraFile(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'));
  const fused = await applyLora(lora, { unet: await OnnxModel.load(join(dir, 'unet', 'model.onnx')) }, scale);
  assert.equal(fused.report.applied.unet, 277);
  assert.deepEqual(fused.report.unmatchedKeys, []);
  const session = await createPatchedSession(fused.unet!);
  return new OnnxUNet(new ModelSession(session, 'unet + lora', { requested: 'cpu', used: 'cpu' }));
}

for (const [file, minPsnr] of [
  ['tiny-sd15.safetensors', 50],
  ['tiny-sd15-fp16.safetensors', 40],
] as const) {
  describe(`built from ${file}`, () => {
    let built: BuiltSd15;
    let pipe: StableDiffusionPipeline;
    before(async () => {
      built = await build(file);
      pipe = await StableDiffusionPipeline.fromFolder(built.dir, { provider: 'cpu' });
    });
    after(() => pipe.release());

    test('has the same inputs and outputs as the exported fixture models', async () => {
      for (const part of ['text_encoder', 'unet', 'vae_decoder']) {
        assert.deepEqual(
          await inspectOnnxModel(join(built.dir, part, 'model.onnx')),
          await inspectOnnxModel(fixturePath(`tiny-sd15/${part}/model.onnx`)),
          part,
        );
      }
      for (const f of ['model_index.json', 'scheduler/scheduler_config.json', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'build.json']) {
        assert.ok(existsSync(join(built.dir, f)), f);
      }
    });

    for (const c of referenceCases()) {
      const loraScale = (c.json.parameters as { lora_scale?: number | null }).lora_scale ?? null;
      test(`reproduces ${c.name} through the pipeline (PSNR >= ${minPsnr} dB)`, async () => {
        const previous = loraScale === null ? null : pipe.replaceUnet(await loraUnet(built.dir, loraScale));
        try {
          const result = await pipe.generate(caseRequest(c));
          result.images.forEach((image, i) => {
            const name = result.images.length > 1 ? `image_${i}.png` : 'image.png';
            const db = psnr(image.rgb, c.png(name).rgb);
            assert.ok(db >= minPsnr, `${name}: PSNR ${db.toFixed(1)} dB`);
          });
        } finally {
          if (previous) await pipe.replaceUnet(previous).release();
        }
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
  // Without the remembered hash the file is hashed again while a build runs; that build is dropped.
  rmSync(join(cacheDir, 'checkpoint-hashes.json'));
  const third = await build('tiny-sd15.safetensors');
  assert.equal(third.dir, first.dir);
  assert.equal(third.cached, true);
  assert.deepEqual(readdirSync(cacheDir).filter((f) => f.startsWith('.building')), []);
});
