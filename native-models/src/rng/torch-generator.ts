/**
 * PyTorch's CPU default generator and its float32 `torch.randn`, bit for bit:
 * `new TorchGenerator(seed).randn([1, 4, 64, 64])` equals `torch.manual_seed(seed); torch.randn(1, 4, 64, 64)`.
 * Successive calls continue the same stream, as successive torch.randn calls do (diffusers draws
 * the initial latents and then the LCM step noise from one generator).
 */
import { logF32, sinCosF32, sinCosOut } from './avx-mathfun.ts';
import { f32 } from './float32-math.ts';
import { Mt19937 } from './mt19937.ts';

export type Seed = number | bigint;
const U64_MAX = (1n << 64n) - 1n;

/** Validates a seed as an unsigned 64-bit integer; throws a message naming the problem. */
export function toU64Seed(seed: Seed): bigint {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be an integer from 0 to 2^64-1 (got ${seed}); pass a bigint above 2^53`);
    }
    return BigInt(seed);
  }
  if (seed < 0n || seed > U64_MAX) throw new RangeError(`seed must be from 0 to 2^64-1 (got ${seed})`);
  return seed;
}

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_PI_F32 = f32(2 * Math.PI);

export class TorchGenerator {
  readonly seed: bigint;
  private readonly engine: Mt19937;
  /** torch caches the second Box-Muller value of its scalar (double) path for the next call. */
  private cachedNormal: number | null = null;

  constructor(seed: Seed) {
    this.seed = toU64Seed(seed);
    this.engine = new Mt19937(Number(this.seed & 0xffffffffn));
  }

  /** float32 standard normal values of the given shape, in C order. */
  randn(shape: readonly number[]): Float32Array {
    const numel = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(numel);
    if (numel >= 16) this.fillVectorised(out);
    else for (let i = 0; i < numel; i++) out[i] = this.nextDoubleNormal();
    return out;
  }

  /** torch's AVX2 path: uniforms for every slot, then Box-Muller over blocks of 16. */
  private fillVectorised(out: Float32Array): void {
    const n = out.length;
    for (let i = 0; i < n; i++) out[i] = (this.engine.nextUint32() & 0xffffff) * TWO_POW_M24;
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
    if (n % 16 !== 0) {
      // torch redraws the last 16 slots from fresh uniforms and transforms them again.
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = (this.engine.nextUint32() & 0xffffff) * TWO_POW_M24;
      boxMuller16(out, start);
    }
  }

  private nextUniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * 2 ** 32 + lo) * TWO_POW_M53;
  }

  /** torch's scalar path (tensors of fewer than 16 elements): float64 Box-Muller with a cached twin. */
  private nextDoubleNormal(): number {
    if (this.cachedNormal !== null) {
      const v = this.cachedNormal;
      this.cachedNormal = null;
      return v;
    }
    const u1 = this.nextUniformDouble();
    const u2 = this.nextUniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

function boxMuller16(d: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - d[at + j]!);
    const u2 = d[at + j + 8]!;
    const radius = f32(Math.sqrt(f32(-2 * logF32(u1))));
    sinCosF32(f32(TWO_PI_F32 * u2));
    d[at + j] = f32(radius * sinCosOut.cos);
    d[at + j + 8] = f32(radius * sinCosOut.sin);
  }
}
