import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { referenceCases } from '../../test/reference-cases.ts';
import { LcmScheduler } from './lcm-scheduler.ts';
import { parseSchedulerConfig } from './scheduler-config.ts';

const reference = JSON.parse(readFileSync(fixturePath('tiny-sd15/scheduler/lcm_reference.json'), 'utf8'));
const config = parseSchedulerConfig(JSON.parse(readFileSync(fixturePath('tiny-sd15/scheduler/scheduler_config.json'), 'utf8')));
const scheduler = new LcmScheduler(config);

test('alphas_cumprod and final alpha equal diffusers float32 values exactly', () => {
  assert.deepEqual(Array.from(scheduler.alphasCumprod), reference.alphas_cumprod);
  assert.equal(scheduler.finalAlphaCumprod, reference.final_alpha_cumprod);
});

for (let n = 1; n <= 8; n++) {
  test(`LCM plan for ${n} step(s) equals diffusers' table exactly`, () => {
    const expected = reference.steps[String(n)];
    const plan = scheduler.plan(n);
    assert.deepEqual(plan.map((p) => p.timestep), expected.timesteps);
    assert.deepEqual(
      plan.map((p) => ({
        timestep: p.timestep,
        alpha_prod_t: p.alphaProdT,
        c_skip: p.cSkip,
        c_out: p.cOut,
        prev_timestep: p.prevTimestep,
        alpha_prod_t_prev: p.alphaProdTPrev,
        adds_noise: p.addsNoise,
      })),
      expected.per_step,
    );
  });
}

test('steps outside 1..8 are refused with the allowed range', () => {
  for (const bad of [0, 9, 2.5, -1]) assert.throws(() => scheduler.plan(bad), /steps must be an integer from 1 to 8/);
});

test('one LCM step on the reference tensors gives the reference latents bit for bit', () => {
  const [c] = referenceCases((c) => c.name === 'cat_g1.5_s4_seed318');
  assert.ok(c);
  const plan = scheduler.plan(4);
  let latents = c.array('initial_latents');
  for (const step of plan) {
    const noise = step.addsNoise ? c.array(`step${step.index}_noise`) : undefined;
    const { prevSample, denoised } = scheduler.step(step, c.array(`step${step.index}_noise_pred`), latents, noise);
    assert.deepEqual(denoised, c.array(`step${step.index}_denoised`));
    assert.deepEqual(prevSample, c.array(`step${step.index}_latents`));
    latents = c.array(`step${step.index}_latents`);
  }
});

test('configs the LCM sampler cannot honour are refused by key', () => {
  assert.throws(() => parseSchedulerConfig({ prediction_type: 'flow' }), /prediction_type "flow"/);
  assert.throws(() => parseSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2' }), /beta_schedule/);
  assert.throws(() => parseSchedulerConfig({ beta_start: 'x' }), /beta_start/);
});
