/**
 * diffusers' LCMScheduler (v0.26) for 1..8 steps, in float32 with the same rounding as PyTorch:
 * every tensor op rounds to float32, so latents match diffusers' to the last bit given the same
 * UNet outputs. `plan(n)` gives the timesteps and coefficients; `step()` is one LCM update.
 */
import { f32 } from '../rng/float32-math.ts';
import { alphasCumprod } from './alphas-cumprod.ts';
import type { SchedulerConfig } from './scheduler-config.ts';

export const MIN_STEPS = 1;
export const MAX_STEPS = 8;
const SIGMA_DATA = 0.5;

export interface LcmStepPlan {
  index: number;
  timestep: number;
  prevTimestep: number;
  alphaProdT: number;
  alphaProdTPrev: number;
  cSkip: number;
  cOut: number;
  /** Every step but the last draws fresh noise and re-noises the denoised sample. */
  addsNoise: boolean;
}

export interface LcmStepResult {
  prevSample: Float32Array;
  denoised: Float32Array;
}

export class LcmScheduler {
  readonly alphasCumprod: Float32Array;
  readonly finalAlphaCumprod: number;
  /** LCM starts from pure noise: init_noise_sigma is 1. */
  readonly initNoiseSigma = 1;

  constructor(readonly config: SchedulerConfig) {
    this.alphasCumprod = alphasCumprod(
      config.beta_start,
      config.beta_end,
      config.num_train_timesteps,
      config.beta_schedule as 'scaled_linear' | 'linear',
    );
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  /** The LCM timesteps: evenly spaced picks from the distilled 50-step schedule, descending. */
  timesteps(numSteps: number): number[] {
    checkSteps(numSteps);
    const original = this.config.original_inference_steps;
    const k = Math.floor(this.config.num_train_timesteps / original);
    // numpy: floor(linspace(0, original, n, endpoint=False)) indexes the reversed origin schedule.
    const stride = original / numSteps;
    return Array.from({ length: numSteps }, (_, i) => {
      const index = Math.floor(i * stride);
      return (original - index) * k - 1;
    });
  }

  plan(numSteps: number): LcmStepPlan[] {
    const ts = this.timesteps(numSteps);
    return ts.map((timestep, index) => {
      const last = index === ts.length - 1;
      const prevTimestep = last ? timestep : ts[index + 1]!;
      const { cSkip, cOut } = this.boundaryScalings(timestep);
      return {
        index,
        timestep,
        prevTimestep,
        alphaProdT: this.alphasCumprod[timestep]!,
        alphaProdTPrev: prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : this.finalAlphaCumprod,
        cSkip,
        cOut,
        addsNoise: !last,
      };
    });
  }

  /** c_skip and c_out, evaluated as torch evaluates them (float32; `a / t` is `t.reciprocal() * a`). */
  boundaryScalings(timestep: number): { cSkip: number; cOut: number } {
    const scaled = f32(timestep * this.config.timestep_scaling);
    const denom = f32(f32(scaled * scaled) + SIGMA_DATA ** 2);
    return {
      cSkip: f32(f32(1 / denom) * SIGMA_DATA ** 2),
      cOut: f32(scaled / f32(Math.sqrt(denom))),
    };
  }

  /**
   * One LCM step. `noise` is required exactly when `plan.addsNoise` (the caller draws it from the
   * seeded generator, as diffusers draws it inside the step).
   */
  step(plan: LcmStepPlan, modelOutput: Float32Array, sample: Float32Array, noise?: Float32Array): LcmStepResult {
    if (modelOutput.length !== sample.length) throw new Error('LCM step: model output and sample differ in size');
    if (plan.addsNoise && noise?.length !== sample.length) throw new Error('LCM step: noise of the sample size is required');
    const sqrtA = f32(Math.sqrt(plan.alphaProdT));
    const sqrtB = f32(Math.sqrt(f32(1 - plan.alphaProdT)));
    const { cSkip, cOut } = plan;
    const prediction = this.config.prediction_type;
    const n = sample.length;
    const denoised = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0: number;
      if (prediction === 'epsilon') x0 = f32(f32(x - f32(sqrtB * m)) / sqrtA);
      else if (prediction === 'v_prediction') x0 = f32(f32(sqrtA * x) - f32(sqrtB * m));
      else x0 = m;
      denoised[i] = f32(f32(cOut * x0) + f32(cSkip * x));
    }
    if (!plan.addsNoise) return { prevSample: denoised, denoised };
    const sqrtAPrev = f32(Math.sqrt(plan.alphaProdTPrev));
    const sqrtBPrev = f32(Math.sqrt(f32(1 - plan.alphaProdTPrev)));
    const prevSample = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      prevSample[i] = f32(f32(sqrtAPrev * denoised[i]!) + f32(sqrtBPrev * noise![i]!));
    }
    return { prevSample, denoised };
  }
}

export function checkSteps(numSteps: number): void {
  if (!Number.isInteger(numSteps) || numSteps < MIN_STEPS || numSteps > MAX_STEPS) {
    throw new RangeError(`steps must be an integer from ${MIN_STEPS} to ${MAX_STEPS} (got ${numSteps})`);
  }
}
