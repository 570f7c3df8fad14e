// The shipped catalog must load, and a broken edit must fail naming the entry and field.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { loadCatalog, parseCatalog } from './catalog.ts';

test('resources/catalog.json is valid and offers the YOSO LoRA and the four bases', () => {
  const catalog = loadCatalog();
  const byId = new Map(catalog.models.map((m) => [m.id, m]));
  const yoso = byId.get('yoso-sd15-lora');
  assert.deepEqual([yoso?.repo, yoso?.files[0]?.path, yoso?.recommended?.steps], ['Luo-Yihong/yoso_sd1.5_lora', 'yoso_lora.safetensors', 1]);
  assert.deepEqual(
    catalog.models.filter((m) => m.kind === 'base').map((m) => m.id).sort(),
    ['dreamshaper-8', 'icbinp', 'realistic-vision-v6', 'stable-diffusion-v1-5'],
  );
  assert.deepEqual([byId.get('realistic-vision-v6')?.recommended?.steps, byId.get('realistic-vision-v6')?.recommended?.guidance], [2, 1.5]);
  for (const m of catalog.models) {
    assert.ok(m.repo !== null || /optimum-cli export onnx --model \S+ --task text-to-image/.test(m.manualInstructions ?? ''), `${m.id} says how to get it`);
  }
});

test('an invalid catalog names the field', () => {
  assert.throws(
    () => parseCatalog({ version: 1, models: [{ id: 'Bad Id', name: 'x', kind: 'base', description: '', repo: 'a/b', license: 'mit' }] }),
    /invalid at models\.0\.id: lowercase letters/,
  );
  assert.throws(
    () => parseCatalog({ version: 1, models: [{ id: 'x', name: 'x', kind: 'base', description: '', repo: null, license: 'mit' }] }),
    /models\.0\.manualInstructions: an entry without repo needs manualInstructions/,
  );
});
