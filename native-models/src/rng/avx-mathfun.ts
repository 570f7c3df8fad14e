/**
 * The float32 log and sin/cos that PyTorch's AVX2 randn kernel uses (Cephes polynomials as ported in
 * avx_mathfun.h), evaluated lane by lane. PyTorch's build lets the compiler contract `a*b + c` into
 * fused multiply-adds, so those spots use fma32; everything else rounds to float32 after each op.
 * Bit-exactness against torch is checked by the rng tests on the fixture's reference values.
 */
import { f32, fma32 } from './float32-math.ts';

const SQRTHF = f32(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LOG_Q1 = f32(-2.12194440e-4);
const LOG_Q2 = f32(0.693359375);
const MIN_NORM_POS = 1.1754943508222875e-38;

// Bit access to a float32 without DataView (much faster in V8's hot loops).
const floatBits = new Float32Array(1);
const intBits = new Uint32Array(floatBits.buffer);

/** log256_ps for one lane (x > 0, float32). */
export function logF32(input: number): number {
  let x = Math.max(input, MIN_NORM_POS);
  floatBits[0] = x;
  const bits = intBits[0]!;
  let e = f32((bits >>> 23) - 127 + 1);
  // Keep the mantissa and force the exponent of 0.5: x in [0.5, 1).
  intBits[0] = (bits & ~0x7f800000) | 0x3f000000;
  x = floatBits[0]!;
  if (x < SQRTHF) {
    e = f32(e - 1);
    x = f32(f32(x - 1) + x);
  } else {
    x = f32(x - 1);
  }
  const z = f32(x * x);
  let y = LOG_P[0]!;
  for (let i = 1; i < LOG_P.length; i++) y = fma32(y, x, LOG_P[i]!);
  y = f32(y * x);
  y = fma32(y, z, f32(e * LOG_Q1));
  y = fma32(-z, 0.5, y);
  x = f32(x + y);
  return fma32(e, LOG_Q2, x);
}

const FOPI = f32(1.27323954473516);
const DP1 = f32(-0.78515625);
const DP2 = f32(-2.4187564849853515625e-4);
const DP3 = f32(-3.77489497744594108e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);

/** Results of the last sinCosF32 call (returned through module state: no allocation per value). */
export const sinCosOut = { sin: 0, cos: 0 };

/** sincos256_ps for one lane (float32 input); writes sinCosOut. */
export function sinCosF32(input: number): void {
  let x = Math.abs(input);
  let signSin = input < 0 || Object.is(input, -0);
  let j = Math.trunc(f32(x * FOPI));
  j = (j + 1) & ~1;
  const y = f32(j);
  if (j & 4) signSin = !signSin;
  const polyIsSin = (j & 2) === 0;
  const signCos = ((j - 2) & 4) === 0;
  x = fma32(y, DP1, x);
  x = fma32(y, DP2, x);
  x = fma32(y, DP3, x);

  const z = f32(x * x);
  let yc = fma32(COS_P[0]!, z, COS_P[1]!);
  yc = fma32(yc, z, COS_P[2]!);
  yc = f32(yc * z);
  yc = fma32(yc, z, f32(-f32(z * 0.5)));
  yc = f32(yc + 1);

  let ys = fma32(SIN_P[0]!, z, SIN_P[1]!);
  ys = fma32(ys, z, SIN_P[2]!);
  ys = f32(ys * z);
  ys = fma32(ys, x, x);

  const sinAbs = polyIsSin ? ys : yc;
  const cosAbs = polyIsSin ? yc : ys;
  sinCosOut.sin = signSin ? -sinAbs : sinAbs;
  sinCosOut.cos = signCos ? -cosAbs : cosAbs;
}
