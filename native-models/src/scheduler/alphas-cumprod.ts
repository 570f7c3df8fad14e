/**
 * alphas_cumprod of the "scaled_linear" (and "linear") beta schedules, computed the way PyTorch's
 * CPU kernels compute them in float32, so the LCM coefficients equal diffusers' bit for bit:
 *   betas = linspace(sqrt(beta_start), sqrt(beta_end), T, float32) ** 2;  cumprod(1 - betas).
 */
import { f32, fma32 } from '../rng/float32-math.ts';

const VEC = 8; // float32 lanes of an AVX2 register: torch's linspace fills 8 values from one base

/**
 * torch.linspace(start, end, steps) in float32 on the CPU. torch computes the first half from
 * `start` and the second half from `end`; its vectorised loop (2 vectors of 8 per iteration, scalar
 * tail) fills each 8-lane vector from one base value, `base + i*step`, which rounds differently
 * from `start + (idx+i)*step`. The compiler contracts `start + step*idx` into a fused multiply-add.
 * (Checked bit for bit against diffusers' alphas_cumprod in the scheduler tests.)
 */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalar = (idx: number) =>
    idx < halfway ? fma32(step, idx, s) : fma32(-step, steps - idx - 1, e);
  let idx = 0;
  for (; idx + 2 * VEC <= steps; idx += VEC) {
    const base = scalar(idx);
    for (let i = 0; i < VEC; i++) out[idx + i] = f32(base + f32(i * step));
  }
  for (; idx < steps; idx++) out[idx] = scalar(idx);
  return out;
}

export type BetaSchedule = 'scaled_linear' | 'linear';

export function alphasCumprod(
  betaStart: number,
  betaEnd: number,
  trainSteps: number,
  schedule: BetaSchedule,
): Float32Array {
  const betas =
    schedule === 'scaled_linear'
      ? linspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), trainSteps).map((b) => f32(b * b))
      : linspaceF32(betaStart, betaEnd, trainSteps);
  const out = new Float32Array(trainSteps);
  // torch's CPU cumprod accumulates float32 inputs in double and rounds each output.
  let acc = 1;
  for (let i = 0; i < trainSteps; i++) {
    acc *= f32(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}
