import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstalledModel } from '../contract/api.ts';
import { A1111HttpError, A1111ValidationError, toValidationIssues } from './errors.ts';
import { Txt2ImgRequest } from './schemas.ts';
import { planTxt2Img, type PlanContext } from './txt2img-plan.ts';

const model = (id: string, kind: InstalledModel['kind'], recommended: InstalledModel['recommended'] = null): InstalledModel => ({
  id,
  name: `${id} (display)`,
  kind,
  path: id,
  sizeBytes: 1,
  source: 'imported',
  recommended,
});

const context: PlanContext = {
  models: [model('dreamshaper-8', 'base', { steps: 2, guidance: 1.5 }), model('tiny', 'base'), model('yoso_lora', 'lora'), model('style', 'lora')],
  checkpoint: 'tiny',
  defaultLoraId: 'yoso_lora',
};

const plan = (body: Record<string, unknown>, ctx: PlanContext = context) => planTxt2Img(Txt2ImgRequest.parse(body), ctx);

function validationIssues(body: Record<string, unknown>) {
  const result = Txt2ImgRequest.safeParse(body, { reportInput: true });
  assert.equal(result.success, false);
  return toValidationIssues(result.error!.issues);
}

test('A1111 defaults where the client is silent; the model card where A1111 defaults would not fit', () => {
  const p = plan({ prompt: 'a fox', seed: 7 });
  assert.equal(p.request.prompt, 'a fox');
  assert.equal(p.request.seed, 7);
  assert.equal(p.request.width, 512);
  assert.equal(p.request.height, 512);
  assert.equal(p.request.batchSize, 1);
  assert.equal(p.request.steps, 1); // tiny has no card: the studio default, not A1111's 50
  assert.equal(p.request.guidance, 1);
  assert.equal(p.request.baseModelId, 'tiny');
  assert.deepEqual(p.request.lora, { id: 'yoso_lora', scale: 1 }); // the studio's default LoRA
  assert.equal(p.lora?.fromPrompt, false);
  const card = plan({ prompt: 'a fox', override_settings: { sd_model_checkpoint: 'dreamshaper-8' } });
  assert.equal(card.request.steps, 2);
  assert.equal(card.request.guidance, 1.5);
  assert.equal(card.keepCheckpoint, null);
});

test('what the client sends is used: steps above the card, cfg, size, batches, seeds', () => {
  const p = plan({ prompt: 'x', steps: 8, cfg_scale: 7, width: 64, height: 128, batch_size: 3, n_iter: 2, seed: 100, sampler_name: 'LCM Karras' });
  assert.equal(p.request.steps, 8);
  assert.equal(p.request.guidance, 7);
  assert.equal(p.request.width, 64);
  assert.equal(p.request.height, 128);
  assert.equal(p.request.batchSize, 3);
  assert.equal(p.count, 2);
  assert.deepEqual(p.seeds, [100, 101, 102, 103, 104, 105]);
  assert.equal(p.request.sharedNoise, false);
});

test('seed -1 (and null) draws a random seed below 2^32; numbers may come as strings', () => {
  const seeds = new Set([-1, null, undefined].map((seed) => plan({ prompt: 'x', seed, batch_size: 2 }).seeds[0]!));
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
  assert.equal(plan({ prompt: 'x', seed: '42', steps: '2' }).request.seed, 42);
});

test('<lora:NAME:WEIGHT> picks the LoRA by file name, takes it out of the prompt, keeps it in all_prompts', () => {
  const p = plan({ prompt: 'a fox, <lora:style:0.6>' });
  assert.equal(p.request.prompt, 'a fox');
  assert.deepEqual(p.request.lora, { id: 'style', scale: 0.6 });
  assert.equal(p.prompt, 'a fox, <lora:style:0.6>');
  assert.equal(p.lora?.fromPrompt, true);
  assert.deepEqual(plan({ prompt: 'a <lora:STYLE:1>' }).request.lora, { id: 'style', scale: 1 });
});

test('model switch per request; restore_afterwards false keeps it', () => {
  const p = plan({ prompt: 'x', override_settings: { sd_model_checkpoint: 'dreamshaper-8.safetensors [0123456789]' }, override_settings_restore_afterwards: false });
  assert.equal(p.request.baseModelId, 'dreamshaper-8');
  assert.equal(p.keepCheckpoint, 'dreamshaper-8');
});

test('unknown models, LoRAs and samplers get A1111 error bodies that name what exists', () => {
  const httpError = (body: Record<string, unknown>, status: number, detail: RegExp) =>
    assert.throws(() => plan(body), (e: unknown) => e instanceof A1111HttpError && e.status === status && detail.test(e.detail));
  httpError({ override_settings: { sd_model_checkpoint: 'sdxl' } }, 404, /Model not found: "sdxl".*dreamshaper-8, tiny/);
  httpError({ prompt: '<lora:nope:1>' }, 404, /LoRA not found: "nope".*style, yoso_lora/);
  httpError({ sampler_name: 'Euler a' }, 404, /Sampler not found: "Euler a"/);
  httpError({ sampler_index: 'DDIM' }, 404, /Sampler not found: "DDIM"/);
  httpError({ script_name: 'x/y/z plot' }, 422, /Script 'x\/y\/z plot' not found/);
  httpError({ alwayson_scripts: { controlnet: { args: [] } } }, 422, /always on script controlnet not found/);
});

test('no base model installed at all', () => {
  assert.throws(() => plan({}, { ...context, models: [], checkpoint: null }), /no base model is installed/);
});

test('features we lack are refused, not silently dropped', () => {
  assert.throws(
    () => plan({ enable_hr: true, restore_faces: true, subseed_strength: 0.3 }),
    (e: unknown) =>
      e instanceof A1111ValidationError &&
      e.issues.map((i) => i.loc[1]).join() === 'enable_hr,restore_faces,subseed_strength' &&
      /hires fix/.test(e.issues[0]!.msg),
  );
  assert.throws(() => plan({ prompt: '<lora:style:1> <lora:yoso_lora:1>' }), /one LoRA per image; the prompt names 2: style, yoso_lora/);
  // Clients send these off by default: fine.
  plan({ prompt: 'x', enable_hr: false, restore_faces: false, tiling: false, subseed_strength: 0, styles: [], alwayson_scripts: {}, script_name: null });
});

test('validation errors read like FastAPI/pydantic 1 and say why', () => {
  assert.deepEqual(validationIssues({ steps: 20 }), [
    {
      loc: ['body', 'steps'],
      msg: 'ensure this value is less than or equal to 8: YOSO makes images in 1, 2 or 4 LCM steps; up to 8 are allowed',
      type: 'value_error.number.not_le',
      ctx: { limit_value: 8 },
    },
  ]);
  const [notInt] = validationIssues({ batch_size: 'two' });
  assert.deepEqual(notInt, { loc: ['body', 'batch_size'], msg: 'value is not a valid integer', type: 'type_error.integer' });
  const [size] = validationIssues({ width: 100 });
  assert.deepEqual(size?.loc, ['body', 'width']);
  assert.match(size!.msg, /multiple of 8/);
  const [seed] = validationIssues({ seed: -5 });
  assert.equal(seed?.type, 'value_error.number.not_ge');
  const [prompt] = validationIssues({ prompt: 12 });
  assert.deepEqual(prompt, { loc: ['body', 'prompt'], msg: 'str type expected', type: 'type_error.str' });
});

test('a library LoRA answers to its file name, as A1111 lists it', () => {
  const yoso: InstalledModel = { ...model('yoso-sd15-lora', 'lora'), path: 'yoso-sd15-lora/yoso_lora.safetensors' };
  const ctx = { ...context, models: [model('tiny', 'base'), yoso] };
  assert.deepEqual(plan({ prompt: 'x <lora:yoso_lora:0.5>' }, ctx).request.lora, { id: 'yoso-sd15-lora', scale: 0.5 });
  assert.deepEqual(plan({ prompt: 'x <lora:yoso-sd15-lora:1>' }, ctx).request.lora, { id: 'yoso-sd15-lora', scale: 1 });
});
