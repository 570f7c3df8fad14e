import { strict as assert } from 'node:assert';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { loadCheckpoint } from './load-weights.ts';
import { recogniseSd15, UnsupportedCheckpointError } from './recognise.ts';
import { CheckpointFileError } from './safetensors.ts';
import { writeSafetensors, type FakeTensor } from './testing/write-safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'yoso-recognise-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The tiny SD 1.5 key set with zero weights, as a starting point for the other model families. */
function tinySd15Tensors(): Record<string, FakeTensor> {
  const keyMap = JSON.parse(readFileSync(fixturePath('tiny-sd15/checkpoint/key_map.json'), 'utf8')) as {
    keys: Record<string, { shape: number[] }>;
  };
  return Object.fromEntries(Object.entries(keyMap.keys).map(([k, v]) => [k, { shape: v.shape }]));
}

function recognise(name: string, tensors: Record<string, FakeTensor>, metadata?: Record<string, string>): void {
  const path = join(dir, name);
  writeSafetensors(path, tensors, metadata);
  const ck = loadCheckpoint(path);
  recogniseSd15(ck.files, ck.weights);
}

function refusal(kind: UnsupportedCheckpointError['kind'], pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UnsupportedCheckpointError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, pattern);
    return true;
  };
}

test('accepts the fixture SD 1.5 checkpoints', () => {
  for (const f of ['tiny-sd15.safetensors', 'tiny-sd15-fp16.safetensors']) {
    const ck = loadCheckpoint(fixturePath(`tiny-sd15/checkpoint/${f}`));
    recogniseSd15(ck.files, ck.weights);
  }
});

test('refuses an SDXL-shaped checkpoint and names the SDXL keys it found', () => {
  const t = tinySd15Tensors();
  for (const k of Object.keys(t)) if (k.startsWith('cond_stage_model.')) delete t[k];
  t['conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight'] = { shape: [49408, 32] };
  t['conditioner.embedders.1.model.ln_final.weight'] = { shape: [64] };
  t['model.diffusion_model.label_emb.0.0.weight'] = { shape: [128, 256] };
  assert.throws(() => recognise('sdxl.safetensors', t), refusal('sdxl', /SDXL checkpoint \(found conditioner\.embedders\.0\..*SDXL is not supported/));
});

test('refuses SD 2.x (OpenCLIP text encoder, 1024-wide cross-attention)', () => {
  const t = tinySd15Tensors();
  for (const k of Object.keys(t)) if (k.startsWith('cond_stage_model.')) delete t[k];
  t['cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight'] = { shape: [96, 32] };
  assert.throws(() => recognise('sd2.safetensors', t), refusal('sd2', /Stable Diffusion 2\.x checkpoint \(found an OpenCLIP text encoder \(cond_stage_model\.model\./));
  const wide = tinySd15Tensors();
  for (const k of Object.keys(wide)) if (/attn2\.to_[kv]\.weight$/.test(k)) wide[k] = { shape: [wide[k]!.shape[0]!, 1024] };
  assert.throws(() => recognise('sd2-wide.safetensors', wide), refusal('sd2', /cross-attention width 1024/));
});

test('refuses an inpainting checkpoint (9 UNet input channels)', () => {
  const t = tinySd15Tensors();
  t['model.diffusion_model.input_blocks.0.0.weight'] = { shape: [32, 9, 3, 3] };
  assert.throws(() => recognise('inpaint.safetensors', t), refusal('inpainting', /inpainting model: its UNet takes 9 input channels \(conv_in \[32,9,3,3\]\)/));
});

test('refuses v-prediction checkpoints marked by a v_pred key, metadata or a sidecar yaml', () => {
  const t = tinySd15Tensors();
  assert.throws(() => recognise('vpred-key.safetensors', { ...t, v_pred: { shape: [] } }), refusal('v-prediction', /v-prediction model \(found a "v_pred" tensor\)/));
  assert.throws(
    () => recognise('vpred-meta.safetensors', t, { 'modelspec.prediction_type': 'v' }),
    refusal('v-prediction', /prediction_type "v"/),
  );
  writeFileSync(join(dir, 'vpred-yaml.yaml'), 'model:\n  params:\n    parameterization: "v"\n');
  assert.throws(() => recognise('vpred-yaml.safetensors', t), refusal('v-prediction', /parameterization "v" in .*vpred-yaml\.yaml/));
});

test('refuses a LoRA or a UNet-only file, naming what is missing', () => {
  assert.throws(() => recognise('lora.safetensors', { 'lora_unet_conv_in.lora_down.weight': { shape: [4, 4, 3, 3] } }), refusal('unknown', /holds no Stable Diffusion weights .*lora_unet_conv_in/));
  const t = tinySd15Tensors();
  for (const k of Object.keys(t)) if (k.startsWith('first_stage_model.')) delete t[k];
  assert.throws(() => recognise('no-vae.safetensors', t), refusal('incomplete', /has no VAE \(first_stage_model\.\*\)/));
});

test('refuses a truncated download with the sizes that show it', () => {
  const src = fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors');
  const part = Buffer.alloc(5_000_000);
  const fd = openSync(src, 'r');
  readSync(fd, part, 0, part.length, 0);
  closeSync(fd);
  const path = join(dir, 'truncated.safetensors');
  writeFileSync(path, part);
  assert.throws(
    () => loadCheckpoint(path),
    (e: unknown) => e instanceof CheckpointFileError && /is truncated: its header describes \d+ bytes but the file has only 5000000 \(\d+\.\d%\); download it again/.test(e.message),
  );
  writeFileSync(join(dir, 'tiny.safetensors'), part.subarray(0, 4));
  assert.throws(() => loadCheckpoint(join(dir, 'tiny.safetensors')), /not a \.safetensors file/);
});
