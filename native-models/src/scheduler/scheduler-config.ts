/**
 * scheduler/scheduler_config.json as diffusers writes it (any of the SD 1.5 schedulers' configs:
 * PNDM, DDIM, LCM, Euler…). The LCM scheduler is built from it the way
 * `LCMScheduler.from_config(config)` is: LCM's own defaults fill the keys the file lacks.
 */
import { z } from 'zod';

export const schedulerConfigSchema = z
  .object({
    num_train_timesteps: z.number().int().positive().default(1000),
    beta_start: z.number().positive().default(0.00085),
    beta_end: z.number().positive().default(0.012),
    beta_schedule: z.string().default('scaled_linear'),
    trained_betas: z.array(z.number()).nullable().optional(),
    original_inference_steps: z.number().int().positive().default(50),
    set_alpha_to_one: z.boolean().default(true),
    prediction_type: z.string().default('epsilon'),
    timestep_scaling: z.number().positive().default(10),
    thresholding: z.boolean().default(false),
    clip_sample: z.boolean().default(false),
    rescale_betas_zero_snr: z.boolean().default(false),
  })
  .loose();

export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;

/** Parses and checks that the LCM scheduler can honour the config; errors name the key and the fix. */
export function parseSchedulerConfig(raw: unknown, source = 'scheduler_config.json'): SchedulerConfig {
  const parsed = schedulerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data;
  const unsupported = (what: string) => new Error(`${source}: ${what} is not supported by the LCM sampler`);
  if (c.beta_schedule !== 'scaled_linear' && c.beta_schedule !== 'linear') {
    throw unsupported(`beta_schedule "${c.beta_schedule}" (expected "scaled_linear" or "linear")`);
  }
  if (c.trained_betas && c.trained_betas.length > 0) throw unsupported('trained_betas');
  if (!['epsilon', 'v_prediction', 'sample'].includes(c.prediction_type)) {
    throw unsupported(`prediction_type "${c.prediction_type}"`);
  }
  if (c.thresholding) throw unsupported('thresholding');
  if (c.clip_sample) throw unsupported('clip_sample');
  if (c.rescale_betas_zero_snr) throw unsupported('rescale_betas_zero_snr');
  if (c.original_inference_steps > c.num_train_timesteps) {
    throw new Error(`${source}: original_inference_steps (${c.original_inference_steps}) exceeds num_train_timesteps`);
  }
  return c;
}

/** SD 1.5's scheduler config (PNDM, as in runwayml/stable-diffusion-v1-5); the app samples with LCM from it.
 * Written into built model folders and used for pipelines that come without one. */
export const SD15_SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
} as const;

