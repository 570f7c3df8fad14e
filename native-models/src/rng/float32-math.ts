/**
 * Float32 arithmetic in JavaScript doubles. +, -, *, / and sqrt of float32 operands computed in
 * float64 and rounded once to float32 give the correctly rounded float32 result (double rounding is
 * harmless for these at 53 vs 24 bits), so `f32(a op b)` is IEEE float32 arithmetic.
 * A fused multiply-add needs more care: a*b is exact in float64, but a*b + c may not be.
 */
export const f32 = Math.fround;

/** Correctly rounded float32 fma(a, b, c) for float32 inputs: what a compiler-contracted `a*b + c` computes. */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24 + 24 significant bits fit in 53
  const s = p + c;
  const r0 = f32(s);
  // Fast path: a double sum that is already a float32 value is the correctly rounded result
  // (the exact sum lies within half a double ulp of it, far inside its float32 rounding interval).
  if (r0 === s) return r0;
  // TwoSum: the exact rounding error of p + c in float64.
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  const r = r0;
  if (err === 0) return r;
  // s may sit exactly halfway between two float32 values; then err says which way the exact sum lies.
  const other = 2 * s - r;
  if (f32(other) !== other || other === r) return r;
  const towardOther = other > s ? err > 0 : err < 0;
  return towardOther ? other : r;
}
