// The A1111-compatible API driven by two published npm clients that no one here wrote:
// `stable-diffusion-client` (UrielCh; models, options, samplers, progress, txt2img, png-info and
// raw get/post for the rest) and `node-sd-webui` (nerdenough; txt2img, png-info with its own
// parser of the A1111 text). Against the real studio on 127.0.0.1: real queue, history, inference
// process and the tiny SD 1.5 fixture (64x64). Hand-made requests cover what neither client sends
// (Basic auth headers, bodies over the limit).
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import sdwebui from 'node-sd-webui';
import { StableDiffusionApi } from 'stable-diffusion-client';
import { TINY_SD15 } from '../../native-models/test/fixtures.ts';
import { readPngText } from '../png-metadata/index.ts';
import { StudioServer } from '../server/http-server.ts';
import { startTestStudio, TINY_MODEL_ID, tinyRequest, type TestStudio } from '../test/studio-fixture.ts';
import { mountA1111, parseApiAuth } from './index.ts';

const LORA = 'tiny_yoso_style_lora';

interface Txt2ImgInfo {
  seed: number;
  all_seeds: number[];
  all_prompts: string[];
  infotexts: string[];
  sd_model_name: string;
  sampler_name: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  batch_size: number;
}

const pixels = (base64: string) => decode(Buffer.from(base64, 'base64')).data;
const fixturePixels = (caseName: string) => decode(readFileSync(join(TINY_SD15(), 'cases', caseName, 'image.png'))).data;

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('A1111 clients against the studio', () => {
  let t: TestStudio;
  let base: string;
  let api: StableDiffusionApi;
  let webui: ReturnType<typeof sdwebui>;
  const small = { width: 64, height: 64, steps: 2, cfg_scale: 1.5, sampler_name: 'LCM' };

  before(async () => {
    t = await startTestStudio({ http: true });
    mountA1111(t.server!, t.studio, { credentials: null });
    symlinkSync(join(TINY_SD15(), 'lora', `${LORA}.safetensors`), join(t.modelsDir, `${LORA}.safetensors`));
    base = t.url!.href.replace(/\/$/, '');
    api = new StableDiffusionApi({ baseUrl: base, timeout: 120_000 });
    webui = sdwebui({ apiUrl: base });
  });
  after(() => t.close());

  test('lists models, samplers and LoRAs; switches the model through options', async () => {
    const models = await api.getSdModels();
    assert.deepEqual(models.map((m) => m.model_name), [TINY_MODEL_ID]);
    assert.equal(models[0]!.title, TINY_MODEL_ID);
    const samplers = await api.getSamplers();
    assert.deepEqual(samplers, [{ name: 'LCM', aliases: ['lcm', 'k_lcm'], options: {} }]);
    const loras = await api.get<Array<{ name: string; path: string }>>('/sdapi/v1/loras');
    assert.deepEqual(loras.map((l) => l.name), [LORA]);
    await api.setModel(TINY_MODEL_ID);
    assert.equal(await api.getCurrentModel(), TINY_MODEL_ID);
    const refused = await api.setOptions({ sd_model_checkpoint: 'sdxl-base' });
    assert.match(JSON.stringify(refused), /model \\"sdxl-base\\" not found\. Installed models: tiny/);
    assert.equal(await api.getCurrentModel(), TINY_MODEL_ID);
  });

  test('txt2img: batch_size × n_iter images, seed + i each, same PNG text as the gallery', async () => {
    const result = await api.txt2img({ prompt: 'a red fox in the snow', seed: 1000, batch_size: 2, n_iter: 2, ...small });
    const info = result.info as Txt2ImgInfo;
    assert.equal(result.images.length, 4);
    assert.deepEqual(info.all_seeds, [1000, 1001, 1002, 1003]);
    assert.equal(info.seed, 1000);
    assert.deepEqual(info.all_prompts, Array(4).fill('a red fox in the snow'));
    assert.equal(info.sd_model_name, TINY_MODEL_ID);
    assert.equal(info.sampler_name, 'LCM');
    assert.equal(info.steps, 2);
    assert.equal(info.infotexts.length, 4);
    assert.equal((result.parameters as { prompt: string }).prompt, 'a red fox in the snow');

    // Every returned PNG is the gallery's file, byte for byte, and carries its infotext.
    const page = t.studio.history.list({ limit: 100 });
    const gallery = new Map(page.items.map((item) => [item.seed, readFileSync(t.studio.history.absolutePath(item.imagePath))]));
    result.images.forEach((image, i) => {
      const png = Buffer.from(image, 'base64');
      assert.deepEqual(png, gallery.get(1000 + i), `image ${i} is the gallery's file`);
      const text = readPngText(new Uint8Array(png)).parameters!;
      assert.equal(text, info.infotexts[i]);
      assert.match(text, new RegExp(`^a red fox in the snow\\nSteps: 2, Sampler: LCM, CFG scale: 1.5, Seed: ${1000 + i}, Size: 64x64`));
    });

    // Image 3 of the batch equals a request for that seed alone (through the other client).
    const single = await webui.txt2img({ prompt: 'a red fox in the snow', seed: 1003, width: 64, height: 64, steps: 2, cfgScale: 1.5, samplingMethod: 'LCM' });
    assert.equal(maxDifference(pixels(single.images[0]!), pixels(result.images[3]!)), 0);
    assert.notEqual(maxDifference(pixels(result.images[0]!), pixels(result.images[1]!)), 0);
  });

  test('model switch: options.sd_model_checkpoint for what follows, override_settings for one request', async () => {
    symlinkSync(TINY_SD15(), join(t.modelsDir, 'tiny-copy'), 'dir');
    assert.deepEqual((await api.getSdModels()).map((m) => m.model_name), [TINY_MODEL_ID, 'tiny-copy']);
    await api.setModel('tiny-copy');
    assert.equal(await api.getCurrentModel(), 'tiny-copy');
    const switched = await api.txt2img({ prompt: 'switched', seed: 11, ...small, steps: 1 });
    assert.equal((switched.info as Txt2ImgInfo).sd_model_name, 'tiny-copy');
    assert.match((switched.info as Txt2ImgInfo).infotexts[0]!, /Model: tiny-copy/);
    const once = await api.txt2img({ prompt: 'once', seed: 11, ...small, steps: 1, override_settings: { sd_model_checkpoint: TINY_MODEL_ID } });
    assert.equal((once.info as Txt2ImgInfo).sd_model_name, TINY_MODEL_ID);
    assert.equal(await api.getCurrentModel(), 'tiny-copy', 'override_settings_restore_afterwards defaults to true');
    const items = t.studio.history.list({ limit: 100 }).items;
    assert.equal(items.find((i) => i.request.prompt === 'switched')?.request.baseModelId, 'tiny-copy');
    assert.equal(items.find((i) => i.request.prompt === 'once')?.request.baseModelId, TINY_MODEL_ID);
    await api.setModel(TINY_MODEL_ID);
  });

  test('txt2img reproduces the diffusers reference image of the fixture', async () => {
    const plain = await api.txt2img({ prompt: 'a photo of a cat', seed: 318, ...small });
    assert.ok(maxDifference(pixels(plain.images[0]!), fixturePixels('cat_g1.5_s2_seed318')) <= 2);
  });

  test('LoRA via <lora:NAME:WEIGHT> reproduces the diffusers LoRA reference, recorded in history and PNG', async () => {
    const withLora = await api.txt2img({ prompt: `a photo of a cat <lora:${LORA}:1>`, seed: 318, ...small });
    assert.equal(withLora.images.length, 1, JSON.stringify(withLora.data).slice(0, 300));
    assert.ok(maxDifference(pixels(withLora.images[0]!), fixturePixels('cat_g1.5_s2_seed318_lora1.0')) <= 2);
    const info = withLora.info as Txt2ImgInfo;
    assert.deepEqual(info.all_prompts, [`a photo of a cat <lora:${LORA}:1>`]);
    assert.match(info.infotexts[0]!, new RegExp(`^a photo of a cat <lora:${LORA}:1>\\n`));
    const item = t.studio.history.list({ limit: 100 }).items.find((i) => i.request.lora !== null);
    assert.deepEqual(item?.request.lora, { id: LORA, scale: 1 });
    assert.equal(item?.request.prompt, 'a photo of a cat');
  });

  test('png-info reads the parameters back (both clients), also from a data: URL', async () => {
    const made = await webui.txt2img({ prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', seed: 77, width: 64, height: 64, steps: 1, cfgScale: 1, samplingMethod: 'LCM' });
    const parsed = await webui.pngInfo({ imageData: made.images[0]! });
    assert.equal(parsed.prompt, 'a lighthouse at dusk');
    assert.equal(parsed.negativePrompt, 'blurry');
    assert.equal(parsed.steps, 1);
    assert.equal(parsed.seed, 77);
    assert.equal(parsed.width, 64);
    assert.equal(parsed.height, 64);
    assert.equal(parsed.samplingMethod, 'LCM');
    const viaUrl = await api.post<{ info: string; parameters: Record<string, string> }>('/sdapi/v1/png-info', { image: `data:image/png;base64,${made.images[0]}` });
    assert.equal(viaUrl.info, JSON.parse(made.info).infotexts[0]);
    assert.equal(viaUrl.parameters.Seed, '77');
    assert.equal(viaUrl.parameters['Size-1'], '64');
  });

  test('progress while a request runs; interrupt stops it and returns what was made', async () => {
    const running = api.txt2img({ prompt: 'a long queue', seed: 5, n_iter: 40, width: 64, height: 64, steps: 4, cfg_scale: 1, sampler_name: 'lcm' });
    let seen: Awaited<ReturnType<typeof api.getProgress>> | null = null;
    for (let i = 0; i < 600 && !seen; i++) {
      const p = await api.getProgress();
      if (p.state.job_count === 40 && p.state.job_no >= 1) seen = p;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(seen, 'progress showed the request running');
    assert.ok(seen.progress > 0 && seen.progress < 1);
    assert.equal(seen.state.sampling_steps, 4);
    await api.post('/sdapi/v1/interrupt');
    const result = await running;
    const info = result.info as Txt2ImgInfo;
    assert.ok(result.images.length >= 1 && result.images.length < 40, `${result.images.length} images before the interrupt`);
    assert.equal(info.infotexts.length, result.images.length);
    assert.deepEqual(info.all_seeds.slice(0, 3), [5, 6, 7]);
    const idle = await api.getProgress();
    assert.equal(idle.progress, 0);
    assert.equal(idle.state.job_count, 0);
  });

  test("requests wait behind the studio's own jobs, in the same queue", async () => {
    const { jobIds } = await t.studio.handlers['generate.enqueue']({ request: tinyRequest({ seed: 500, steps: 1 }), count: 3 });
    const result = await api.txt2img({ prompt: 'after the studio', seed: 9, ...small, steps: 1 });
    assert.equal(result.images.length, 1);
    const jobs = t.studio.queue.list();
    const ours = jobs.filter((job) => job.origin === 'a1111').at(-1)!;
    assert.equal(ours.state, 'done');
    const finishedBefore = (id: string) => jobs.findIndex((job) => job.id === id) < jobs.indexOf(ours);
    for (const id of jobIds) {
      assert.equal(jobs.find((job) => job.id === id)?.state, 'done');
      assert.ok(finishedBefore(id), 'the studio job finished first');
    }
  });

  test('unsupported samplers and out-of-range values answer in A1111 shapes', async () => {
    // The client's defaults: "Euler a", 20 steps, CFG 7, 512x512.
    const euler = await api.txt2img({ prompt: 'x' });
    assert.equal(euler.images.length, 0);
    const body = euler.data as { error: string; detail: string; errors: string };
    assert.equal(body.error, 'HTTPException');
    assert.match(body.detail, /Sampler not found: "Euler a"\. YOSO Studio runs one sampler: LCM/);
    const steps = await fetch(`${base}/sdapi/v1/txt2img`, { method: 'POST', body: JSON.stringify({ prompt: 'x', steps: 20, sampler_name: 'LCM' }) });
    assert.equal(steps.status, 422);
    const detail = ((await steps.json()) as { detail: Array<{ loc: string[]; type: string; msg: string }> }).detail;
    assert.deepEqual(detail[0]!.loc, ['body', 'steps']);
    assert.equal(detail[0]!.type, 'value_error.number.not_le');
    const broken = await fetch(`${base}/sdapi/v1/txt2img`, { method: 'POST', body: '{"prompt": ' });
    assert.equal(broken.status, 422);
    assert.equal(((await broken.json()) as { detail: Array<{ type: string }> }).detail[0]!.type, 'value_error.jsondecode');
    const huge = await fetch(`${base}/sdapi/v1/txt2img`, { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(2 * 1024 * 1024) }) });
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as { error: string }).error, 'HTTPException');
    assert.equal((await fetch(`${base}/sdapi/v1/nope`)).status, 404);
    assert.equal((await fetch(`${base}/sdapi/v1/txt2img`)).status, 405);
  });

  test('--api-auth: Basic credentials as A1111 checks them', async () => {
    const guarded = new StudioServer({ studio: t.studio, rendererDir: join(t.root, 'renderer'), access: { token: null } });
    mountA1111(guarded, t.studio, { credentials: parseApiAuth('bot:s3cret'), corsOrigins: ['https://editor.example'] });
    const url = (await guarded.listen(0, '127.0.0.1')).href.replace(/\/$/, '');
    try {
      const none = await fetch(`${url}/sdapi/v1/sd-models`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Basic');
      assert.deepEqual(await none.json(), { error: 'HTTPException', detail: 'Not authenticated', body: '', errors: '401: Not authenticated' });
      const wrong = await fetch(`${url}/sdapi/v1/sd-models`, { headers: { Authorization: `Basic ${Buffer.from('bot:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      const ok = await fetch(`${url}/sdapi/v1/sd-models`, { headers: { Authorization: `Basic ${Buffer.from('bot:s3cret').toString('base64')}` } });
      assert.equal(ok.status, 200);
      // --cors-allow-origins: the browser's preflight (no credentials) passes, the call still needs them.
      const preflight = await fetch(`${url}/sdapi/v1/txt2img`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://editor.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
      });
      assert.equal(preflight.status, 200);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://editor.example');
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization,content-type');
      const stranger = await fetch(`${url}/sdapi/v1/sd-models`, { headers: { Origin: 'https://evil.example', Authorization: `Basic ${Buffer.from('bot:s3cret').toString('base64')}` } });
      assert.equal(stranger.headers.get('access-control-allow-origin'), null);
      // A page on another site cannot POST through the user's browser (no preflight for text/plain).
      const basic = `Basic ${Buffer.from('bot:s3cret').toString('base64')}`;
      const forged = await fetch(`${url}/sdapi/v1/interrupt`, { method: 'POST', headers: { Origin: 'https://evil.example', Authorization: basic, 'Content-Type': 'text/plain' }, body: '{}' });
      assert.equal(forged.status, 403);
      assert.match(((await forged.json()) as { detail: string }).detail, /--cors-allow-origins https:\/\/evil\.example/);
      const listed = await fetch(`${url}/sdapi/v1/interrupt`, { method: 'POST', headers: { Origin: 'https://editor.example', Authorization: basic }, body: '{}' });
      assert.equal(listed.status, 200);
      // stable-diffusion-client's setAuth builds the header but never sends it: it gets A1111's 401.
      const client = new StableDiffusionApi({ baseUrl: url }).setAuth('bot', 's3cret');
      assert.deepEqual(await client.getSdModels(), { error: 'HTTPException', detail: 'Not authenticated', body: '', errors: '401: Not authenticated' });
    } finally {
      await guarded.close();
    }
  });
});
