import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { ldmLayout, mapLdmKey } from './ldm-keys.ts';

test('maps every single-file key of the fixture checkpoint to the diffusers key in key_map.json', () => {
  const keyMap = JSON.parse(readFileSync(fixturePath('tiny-sd15/checkpoint/key_map.json'), 'utf8')) as {
    keys: Record<string, { component: string; diffusers_key: string }>;
  };
  const keys = Object.keys(keyMap.keys);
  assert.ok(keys.length > 900);
  const layout = ldmLayout(keys);
  assert.deepEqual(layout, { unetLayersPerBlock: 2, vaeLevels: 4 });
  const wrong = keys.filter((k) => {
    const m = mapLdmKey(k, layout);
    const want = keyMap.keys[k]!;
    return m?.component !== want.component || m.key !== want.diffusers_key;
  });
  assert.deepEqual(wrong.slice(0, 5).map((k) => [k, mapLdmKey(k, layout), keyMap.keys[k]]), []);
});

test('ignores keys the graphs do not use', () => {
  const layout = { unetLayersPerBlock: 2, vaeLevels: 4 };
  assert.equal(mapLdmKey('cond_stage_model.transformer.text_model.embeddings.position_ids', layout), null);
  assert.equal(mapLdmKey('model_ema.decay', layout), null);
  assert.equal(mapLdmKey('alphas_cumprod', layout), null);
});
