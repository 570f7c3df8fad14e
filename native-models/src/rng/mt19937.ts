/**
 * 32-bit Mersenne Twister (MT19937), the engine behind PyTorch's CPU default generator.
 * torch.manual_seed(s) seeds it with init_genrand(s & 0xffffffff), so 64-bit seeds that share
 * their low 32 bits give the same stream, exactly as in PyTorch.
 */
const N = 624;
const M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed32: number) {
    const mt = this.state;
    mt[0] = seed32 >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** Next raw 32-bit output (an unsigned integer). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.state;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & UPPER_MASK) | (mt[(i + 1) % N]! & LOWER_MASK);
      mt[i] = mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
