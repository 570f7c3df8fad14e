// TAESD as a model: pulled from the catalog (a loopback Hub) or imported from a .safetensors file, it
// installs as `taesd` with its decoder graph built; wrong files are refused and leave nothing.
import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeRandomTaesdFile } from '../../native-models/src/checkpoint/testing/write-random-taesd.ts';
import { writeSafetensors } from '../../native-models/src/checkpoint/testing/write-safetensors.ts';
import { inspectOnnxModel } from '../../native-models/src/onnx/inspect.ts';
import { ImportError, ModelLibrary } from './index.ts';
import { findPreviewDecoder } from './preview-decoder.ts';
import { FakeHub } from './test/fake-hub.ts';
import { tempDir, walk } from './test/helpers.ts';

let work: string;
let cleanupWork: () => Promise<void>;
let taesdFile: string;
const hub = new FakeHub();
before(async () => {
  ({ path: work, cleanup: cleanupWork } = await tempDir('yoso-taesd-'));
  taesdFile = join(work, 'diffusion_pytorch_model.safetensors');
  writeRandomTaesdFile(taesdFile, 3, 'diffusers', 'F16');
  await hub.start();
});
after(async () => {
  await hub.stop();
  await cleanupWork();
});

test('npm run models -- pull taesd: downloads the diffusers file and builds the preview decoder', async (t) => {
  const { path: modelsDir, cleanup } = await tempDir();
  t.after(cleanup);
  hub.addRepo('madebyollin/taesd', { 'diffusion_pytorch_model.safetensors': await readFile(taesdFile), 'config.json': Buffer.from('{}') });
  const lib = new ModelLibrary({ modelsDir, hub: { endpoint: hub.endpoint, token: null }, retry: { attempts: 1, baseDelayMs: 5 } });
  assert.equal((await lib.catalog()).find((e) => e.id === 'taesd')?.kind, 'preview-decoder');
  assert.equal(await findPreviewDecoder(modelsDir), null);
  const model = await lib.pull({ catalogId: 'taesd' }).done;
  assert.deepEqual([model.id, model.kind, model.path], ['taesd', 'preview-decoder', 'taesd/taesd_decoder/model.onnx']);
  const decoder = await findPreviewDecoder(modelsDir);
  assert.equal(decoder, join(modelsDir, 'taesd', 'taesd_decoder', 'model.onnx'));
  const signature = await inspectOnnxModel(decoder!);
  assert.deepEqual([signature.inputs.map((i) => i.name), signature.outputs.map((o) => o.name)], [['latent_sample'], ['sample']]);
  const manifest = await lib.manifest('taesd');
  assert.ok(manifest?.files.some((f) => f.path === 'taesd_decoder/model.onnx_data' && f.sizeBytes > 4_000_000), 'the built graph is in the manifest');
});

test('a pulled file that is not SD 1.5 TAESD is refused and nothing is installed', async (t) => {
  const { path: modelsDir, cleanup } = await tempDir();
  t.after(cleanup);
  const wrong = join(work, 'taef1.safetensors');
  writeSafetensors(wrong, { 'decoder.layers.0.weight': { shape: [64, 16, 3, 3] } });
  hub.addRepo('madebyollin/taesd', { 'diffusion_pytorch_model.safetensors': await readFile(wrong) });
  const lib = new ModelLibrary({ modelsDir, hub: { endpoint: hub.endpoint, token: null }, retry: { attempts: 1, baseDelayMs: 5 } });
  await assert.rejects(lib.pull({ catalogId: 'taesd' }).done, /16-channel latents/);
  assert.deepEqual(await walk(modelsDir, true), []);
});

test('npm run models -- import <taesd>.safetensors installs it as taesd; other TAESD files are refused clearly', async (t) => {
  const { path: modelsDir, cleanup } = await tempDir();
  t.after(cleanup);
  const lib = new ModelLibrary({ modelsDir });
  const original = join(work, 'taesd_decoder.safetensors');
  writeRandomTaesdFile(original, 3, 'original');
  const model = await lib.importPath(original);
  assert.deepEqual([model.id, model.kind, model.source], ['taesd', 'preview-decoder', 'imported']);
  assert.deepEqual(await walk(join(modelsDir, 'taesd')), ['taesd_decoder.safetensors', 'taesd_decoder/model.onnx', 'taesd_decoder/model.onnx_data', 'yoso-model.json']);

  const pickle = join(work, 'taesd_decoder.pth');
  await writeFile(pickle, 'x');
  await assert.rejects(lib.importPath(pickle, { id: 'other' }), /pickle file.*madebyollin\/taesd/);
  const xl = join(work, 'taesdxl_decoder.safetensors');
  writeRandomTaesdFile(xl, 3, 'original');
  await assert.rejects(lib.importPath(xl, { id: 'xl' }), (e: unknown) => e instanceof ImportError && /TAESD for SDXL.*pull taesd/.test(e.message));
  assert.deepEqual((await lib.list()).map((m) => m.id), ['taesd']);
});
