import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { deriveSd15Config } from '../graph/sd15-config.ts';
import { loadCheckpoint } from './load-weights.ts';
import { countParameters, randomSd15Weights, SD15_FULL_CONFIG, sd15WeightShapes } from './random-sd15.ts';

test('at the fixture widths, the generated key set and shapes equal the fixture checkpoint (VAE decoder part)', () => {
  const ck = loadCheckpoint(fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors'));
  const text = JSON.parse(readFileSync(fixturePath('tiny-sd15/text_encoder/config.json'), 'utf8')) as Record<string, unknown>;
  const cfg = deriveSd15Config(ck.weights, { textEncoder: text });
  const generated = sd15WeightShapes(cfg);
  const fromFile = new Map(
    ck.weights
      .keys()
      .filter((k) => !k.startsWith('vae.encoder.') && k !== 'vae.quant_conv.weight' && k !== 'vae.quant_conv.bias')
      .map((k) => [k, ck.weights.get(k)!.shape]),
  );
  assert.deepEqual(new Map([...generated].sort()), new Map([...fromFile].sort()));
});

test('full size has SD 1.5 parameter counts and derives back to the SD 1.5 config', () => {
  const w = randomSd15Weights(1);
  assert.equal(countParameters(w, 'unet.'), 859_520_964);
  assert.equal(countParameters(w, 'text_encoder.'), 123_060_480);
  assert.deepEqual(deriveSd15Config(w), SD15_FULL_CONFIG);
});

test('values are seeded: same seed same weights, another seed others, norms at 1', () => {
  const a = randomSd15Weights(7).get('unet.conv_in.weight')!.readFloat32();
  assert.deepEqual(a, randomSd15Weights(7).get('unet.conv_in.weight')!.readFloat32());
  assert.notDeepEqual(a, randomSd15Weights(8).get('unet.conv_in.weight')!.readFloat32());
  const bound = Math.sqrt(3 / 36);
  assert.ok(a.every((x) => Math.abs(x) <= bound) && a.some((x) => Math.abs(x) > bound / 2));
  assert.ok(randomSd15Weights(7).get('unet.conv_norm_out.weight')!.readFloat32().every((x) => x === 1));
});
