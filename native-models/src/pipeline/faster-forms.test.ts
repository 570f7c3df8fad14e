// Each faster form of the pipeline against the plain form on the tiny fixture: CFG as two batch-1
// UNet calls, tuned session memory settings, and the TAESD preview decoder (built with seeded
// weights, checked against a direct JavaScript evaluation of TAESD's architecture).
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TINY_SD15 } from '../../test/fixtures.ts';
import { maxAbsDiff } from '../../test/reference-cases.ts';
import { buildTaesdDecoder, randomTaesdWeights, TAESD_PREFIX, taesdWeightShapes, type TaesdConfig } from '../graph/taesd-decoder.ts';
import { writeOnnxModel } from '../graph/write-onnx.ts';
import { ort } from '../onnx/ort.ts';
import { EditableModel } from '../onnx/graph-rewrites/editable-model.ts';
import { rewriteUpsampleConvs } from '../onnx/graph-rewrites/subpixel-upsample.ts';
import { rewriteWinograd } from '../onnx/graph-rewrites/winograd-convs.ts';
import { OnnxUNet } from './components.ts';
import { LEAN_TUNING, ORT_DEFAULT_TUNING, StableDiffusionPipeline } from './pipeline.ts';
import type { GenerateRequest } from './request.ts';

/** The exported graphs as they are, diffusers' CFG batching. */
const PLAIN = { provider: 'cpu', cfgBatching: 'batched', vaeConvolutions: 'direct', unetAttention: 'exported', unetLayers: 'exported' } as const;

const dir = mkdtempSync(join(tmpdir(), 'yoso-faster-'));
const taesdDir = join(dir, 'taesd');
let plain: StableDiffusionPipeline;
before(async () => {
  mkdirSync(taesdDir);
  writeOnnxModel(buildTaesdDecoder(randomTaesdWeights(5)), taesdDir, 'model.onnx');
  plain = await StableDiffusionPipeline.fromFolder(TINY_SD15(), { ...PLAIN, tuning: ORT_DEFAULT_TUNING });
});
after(async () => {
  await plain.release();
  rmSync(dir, { recursive: true, force: true });
});

const GUIDED: GenerateRequest = { prompt: 'a photo of a cat', negativePrompt: 'blurry', seed: 318, steps: 2, guidance: 1.5, width: 64, height: 64, batchSize: 2, png: false };

async function withPipeline<T>(options: Parameters<typeof StableDiffusionPipeline.fromFolder>[1], body: (p: StableDiffusionPipeline) => Promise<T>): Promise<T> {
  const p = await StableDiffusionPipeline.fromFolder(TINY_SD15(), options);
  try {
    return await body(p);
  } finally {
    await p.release();
  }
}

test('CFG as two batch-1 UNet calls sharing the text-free prefix gives the batched call\'s latents', async () => {
  const reference = await plain.generate(GUIDED);
  await withPipeline({ ...PLAIN, cfgBatching: 'split' }, async (p) => {
    assert.deepEqual(p.components.unetForm, { attention: 'exported', layers: 'exported', sharedPrefix: true, precision: 'float32' });
    const unet = p.components.unet;
    assert.ok(unet instanceof OnnxUNet && unet.prefix, 'the UNet runs as prefix + rest');
    const calls: string[] = [];
    for (const session of [unet.prefix, unet.session]) {
      const run = session.run.bind(session);
      session.run = (feeds) => {
        calls.push(`${session === unet.prefix ? 'prefix' : 'rest'}:${(feeds.sample ?? feeds.encoder_hidden_states)!.dims[0]}`);
        return run(feeds);
      };
    }
    const split = await p.generate(GUIDED);
    assert.deepEqual(calls, ['prefix:2', 'rest:2', 'rest:2', 'prefix:2', 'rest:2', 'rest:2'], 'per step: the prefix once, then the rest for each text');
    const d = maxAbsDiff(split.latents.final, reference.latents.final);
    assert.ok(d <= 1e-5, `split CFG latents differ by ${d}`);
  });
  // 'auto' splits on CPU.
  await withPipeline({ provider: 'cpu' }, async (p) => assert.equal(p.components.cfgBatching, 'split'));
});

test('a provider asked for that cannot start falls back to the CPU with the CPU\'s forms', { skip: process.platform === 'darwin' && 'CoreML starts on macOS' }, async () => {
  await withPipeline({ provider: 'coreml' }, async (p) => {
    assert.equal(p.components.unet.provider.used, 'cpu');
    assert.deepEqual(p.components.unetForm, { attention: 'fused', layers: 'fast', sharedPrefix: true, precision: 'float32' });
    assert.equal(p.components.vaeConvolutions, 'fast');
  });
});

test('the default and the lean session memory settings (also without prepacking) give the plain settings\' image', async () => {
  const reference = await plain.generate(GUIDED);
  for (const tuning of [undefined, LEAN_TUNING, { ...LEAN_TUNING, prepacking: false }]) {
    await withPipeline({ ...PLAIN, ...(tuning ? { tuning } : {}) }, async (p) => {
      const lean = await p.generate(GUIDED);
      assert.ok(maxAbsDiff(lean.latents.final, reference.latents.final) <= 1e-5);
      assert.deepEqual(lean.images.map((i) => i.rgb), reference.images.map((i) => i.rgb));
    });
  }
});

test('preview-then-full: the preview comes first, the full image is the plain one', async () => {
  const reference = await plain.generate(GUIDED);
  await withPipeline({ ...PLAIN, replace: { previewDecoder: join(taesdDir, 'model.onnx') } }, async (p) => {
    const stages: string[] = [];
    let previewEvent: unknown;
    const result = await p.generate({
      ...GUIDED,
      decode: 'preview-then-full',
      onProgress: (e) => {
        stages.push(e.stage);
        if (e.preview) previewEvent = e.preview;
      },
    });
    assert.deepEqual(stages, ['text', 'unet', 'unet', 'preview', 'vae']);
    assert.ok(result.preview && previewEvent === result.preview);
    assert.equal(result.preview.rgb.length, 2);
    assert.equal(result.preview.width, 64);
    assert.equal(result.preview.rgb[0]!.length, 64 * 64 * 3);
    assert.deepEqual(result.images.map((i) => i.rgb), reference.images.map((i) => i.rgb));
    assert.ok(result.timings.previewMs > 0 && result.timings.firstPictureMs < result.timings.totalMs);

    const only = await p.generate({ ...GUIDED, decode: 'preview' });
    assert.equal(only.timings.vaeMs, 0);
    assert.deepEqual(only.images.map((i) => i.rgb), result.preview.rgb);
  });
  await assert.rejects(plain.generate({ ...GUIDED, decode: 'preview' }), /needs a preview decoder.*taesd_decoder\/model\.onnx/);
});

test('decoding an earlier run\'s final latents gives that run\'s images without a UNet call', async () => {
  const reference = await plain.generate(GUIDED);
  const unet = plain.components.unet;
  const predict = unet.predict.bind(unet);
  let calls = 0;
  unet.predict = (...args) => (calls++, predict(...args));
  try {
    const reused = await plain.generate({ ...GUIDED, finalLatents: reference.latents.final });
    assert.equal(calls, 0);
    assert.deepEqual(reused.timings.unetMs, []);
    assert.deepEqual(reused.images.map((i) => i.rgb), reference.images.map((i) => i.rgb));
    await assert.rejects(plain.generate({ ...GUIDED, finalLatents: new Float32Array(3) }), /finalLatents hold 3 values; these settings need 512 \(\[2, 4, 8, 8\]\)/);
  } finally {
    unet.predict = predict;
  }
});

// The tiny decoder has too few channels for the rules the full-size one gets, so each rewrite is
// asked for every conv it can take here.
const REWRITES: Array<[string, (m: EditableModel) => string[]]> = [
  ['every 3x3 conv in Winograd form', (m) => rewriteWinograd(m, { minInputChannels: 1 })],
  ['its upsample convs as 2x2 phases', (m) => rewriteUpsampleConvs(m, 1)],
];
for (const [label, rewrite] of REWRITES) {
  test(`the VAE decoder with ${label} gives the plain image (every pixel within 1 of 255)`, async () => {
    const reference = await plain.generate(GUIDED);
    const m = await EditableModel.fromFile(join(TINY_SD15(), 'vae_decoder', 'model.onnx'));
    assert.ok(rewrite(m).length > 0);
    await withPipeline({ ...PLAIN, replace: { vaeDecoder: m.encode() } }, async (p) => {
      const fast = await p.generate(GUIDED);
      for (const [i, image] of fast.images.entries()) assert.ok(maxAbsDiff(image.rgb, reference.images[i]!.rgb) <= 1, `image ${i} differs by ${maxAbsDiff(image.rgb, reference.images[i]!.rgb)}`);
    });
  });
}

test('the UNet with its upsample convs as 2x2 phases gives the plain latents and images', async () => {
  const reference = await plain.generate(GUIDED);
  const m = await EditableModel.fromFile(join(TINY_SD15(), 'unet', 'model.onnx'));
  // The tiny UNet's 64 channels are under the 128-channel threshold full-size models pass.
  assert.deepEqual(rewriteUpsampleConvs(m, 1), [0, 1, 2].map((i) => `/up_blocks.${i}/upsamplers.0/conv/Conv`));
  await withPipeline({ ...PLAIN, replace: { unet: m.encode() } }, async (p) => {
    const fast = await p.generate(GUIDED);
    const d = maxAbsDiff(fast.latents.final, reference.latents.final);
    assert.ok(d <= 1e-4, `latents differ by ${d}`);
    for (const [i, image] of fast.images.entries()) assert.ok(maxAbsDiff(image.rgb, reference.images[i]!.rgb) <= 1, `image ${i} differs by ${maxAbsDiff(image.rgb, reference.images[i]!.rgb)}`);
  });
});

test('the default on CPU (fused UNet attention, GEGLU in halves, fast VAE: here its attention fused) gives the plain images within 1 of 255', async () => {
  const reference = await plain.generate(GUIDED);
  await withPipeline({ provider: 'cpu', cfgBatching: 'batched' }, async (p) => {
    assert.deepEqual(p.components.unetForm, { attention: 'fused', layers: 'fast', sharedPrefix: false, precision: 'float32' });
    assert.equal(p.components.vaeConvolutions, 'fast');
    const fast = await p.generate(GUIDED);
    assert.ok(maxAbsDiff(fast.latents.final, reference.latents.final) <= 1e-4, `latents differ by ${maxAbsDiff(fast.latents.final, reference.latents.final)}`);
    for (const [i, image] of fast.images.entries()) assert.ok(maxAbsDiff(image.rgb, reference.images[i]!.rgb) <= 1, `image ${i} differs by ${maxAbsDiff(image.rgb, reference.images[i]!.rgb)}`);
  });
});

// TAESD's decoder evaluated directly (NCHW float64 loops), for a small width so it runs in milliseconds.
function conv3x3(x: Float64Array, c: number, h: number, w: number, weight: Float32Array, bias: Float32Array | undefined, out: number): Float64Array {
  const y = new Float64Array(out * h * w);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = bias ? bias[o]! : 0;
        for (let k = 0; k < c; k++)
          for (let di = -1; di <= 1; di++)
            for (let dj = -1; dj <= 1; dj++) {
              const ii = i + di;
              const jj = j + dj;
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              s += x[(k * h + ii) * w + jj]! * weight[((o * c + k) * 3 + di + 1) * 3 + dj + 1]!;
            }
        y[(o * h + i) * w + j] = s;
      }
  return y;
}

function taesdByHand(latent: Float32Array, h: number, w: number, cfg: TaesdConfig, weight: (k: string) => Float32Array | undefined): Float64Array {
  const relu = (a: Float64Array) => a.map((v) => Math.max(0, v));
  const c = cfg.channels;
  let x: Float64Array<ArrayBufferLike> = Float64Array.from(latent, (v) => Math.tanh(v / 3) * 3);
  const conv = (a: Float64Array, cin: number, key: string, out: number) => conv3x3(a, cin, h, w, weight(`${key}.weight`)!, weight(`${key}.bias`), out);
  let index = 1;
  x = relu(conv(x, cfg.latentChannels, `${index++}`, c));
  index++; // ReLU
  const block = () => {
    const k = `${index++}`;
    const y = conv(relu(conv(relu(conv(x, c, `${k}.conv.0`, c)), c, `${k}.conv.2`, c)), c, `${k}.conv.4`, c);
    x = relu(y.map((v, i) => v + x[i]!));
  };
  for (let s = 0; s < cfg.stages; s++) {
    for (let b = 0; b < cfg.blocksPerStage; b++) block();
    index++; // Upsample: nearest x2
    const up = new Float64Array(c * 4 * h * w);
    for (let k = 0; k < c; k++) for (let i = 0; i < 2 * h; i++) for (let j = 0; j < 2 * w; j++) up[(k * 2 * h + i) * 2 * w + j] = x[(k * h + (i >> 1)) * w + (j >> 1)]!;
    h *= 2;
    w *= 2;
    x = conv(up, c, `${index++}`, c);
  }
  for (let b = 0; b < cfg.finalBlocks; b++) block();
  return conv(x, c, `${index}`, 3).map((v) => v * 2 - 1);
}

test('the TAESD graph computes TAESD\'s decoder (checked by direct evaluation)', async () => {
  const cfg: TaesdConfig = { latentChannels: 4, channels: 6, stages: 3, blocksPerStage: 3, finalBlocks: 1 };
  // taesd_decoder.pth: conv_in (2) + 10 blocks x 3 convs (60) + 3 upsampling convs without bias (3) + conv_out (2).
  assert.equal(taesdWeightShapes().size, 67);
  const weights = randomTaesdWeights(9, cfg);
  const graphDir = join(dir, 'taesd-small');
  mkdirSync(graphDir);
  writeOnnxModel(buildTaesdDecoder(weights, cfg), graphDir, 'model.onnx');
  const latent = Float32Array.from({ length: 4 * 3 * 2 }, (_, i) => Math.sin(i * 1.7) * 4);
  const session = await ort.InferenceSession.create(join(graphDir, 'model.onnx'));
  try {
    const out = (await session.run({ latent_sample: new ort.Tensor('float32', latent, [1, 4, 3, 2]) })).sample!;
    assert.deepEqual(out.dims, [1, 3, 24, 16]);
    const expected = taesdByHand(latent, 3, 2, cfg, (k) => weights.get(TAESD_PREFIX + k)?.readFloat32());
    const d = maxAbsDiff(out.data as Float32Array, expected);
    assert.ok(d < 1e-4, `TAESD graph differs from the direct evaluation by ${d}`);
  } finally {
    await session.release();
  }
});
