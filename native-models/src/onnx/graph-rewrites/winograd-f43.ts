// Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016): a 3x3 convolution computed on 6x6 input tiles that overlap by 2 and give 4x4
// outputs each, as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Per output it needs 36/16 = 2.25 multiplications
// per input-output channel pair instead of 9: 4x fewer, paid for with transforms that are cheap when
// channels are many. The constants are the interpolation points 0, ±1, ±2 and ∞.

/** Output tile side (m) and input tile side (m + r - 1). */
export const TILE_OUT = 4;
export const TILE_IN = 6;

const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

const P = TILE_IN * TILE_IN;

/** G ⊗ G as a [36, 9] matrix: row i*6+j, column a*3+b holds G[i][a]·G[j][b], so U = this x g. */
export function weightTransformMatrix(): Float32Array {
  const out = new Float32Array(P * 9);
  for (let i = 0; i < TILE_IN; i++)
    for (let j = 0; j < TILE_IN; j++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) out[(i * TILE_IN + j) * 9 + a * 3 + b] = G[i]![a]! * G[j]![b]!;
  return out;
}

/**
 * The input transform Bᵀ d B as a depthwise convolution: [C*36, 1, 6, 6], output channel c*36 + i*6+j
 * holds V[i, j] of channel c for each tile (stride 4).
 */
export function inputTransformKernel(c: number): Float32Array {
  const one = new Float32Array(P * P);
  for (let i = 0; i < TILE_IN; i++)
    for (let j = 0; j < TILE_IN; j++)
      for (let a = 0; a < TILE_IN; a++) for (let b = 0; b < TILE_IN; b++) one[(i * TILE_IN + j) * P + a * TILE_IN + b] = BT[i]![a]! * BT[j]![b]!;
  const out = new Float32Array(c * P * P);
  for (let ch = 0; ch < c; ch++) out.set(one, ch * P * P);
  return out;
}

/** The output transform Aᵀ M A as a [16, 36] matrix: row p*4+q gives output pixel (p, q) of a tile. */
export function outputTransformMatrix(): Float32Array {
  const out = new Float32Array(TILE_OUT * TILE_OUT * P);
  for (let p = 0; p < TILE_OUT; p++)
    for (let q = 0; q < TILE_OUT; q++)
      for (let i = 0; i < TILE_IN; i++) for (let j = 0; j < TILE_IN; j++) out[(p * TILE_OUT + q) * P + i * TILE_IN + j] = AT[p]![i]! * AT[q]![j]!;
  return out;
}
