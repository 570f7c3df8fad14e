/**
 * Where the pipeline's random numbers come from. Two conventions:
 * - per-image seeds (default, A1111's): image i has its own generator seeded with seed+i, so any
 *   image of a batch equals a single generation with its seed;
 * - shared (diffusers' num_images_per_prompt): one generator draws [B,4,h,w] for the whole batch.
 * Both draw where diffusers does: initial latents first, then one draw after each non-final step.
 */
import { TorchGenerator, toU64Seed, type Seed } from '../rng/torch-generator.ts';

const U64 = 1n << 64n;

export function imageSeeds(seed: Seed, batch: number): bigint[] {
  const base = toU64Seed(seed);
  return Array.from({ length: batch }, (_, i) => (base + BigInt(i)) % U64);
}

export class NoiseSource {
  private readonly generators: TorchGenerator[];

  constructor(
    seed: Seed,
    private readonly batch: number,
    readonly shared: boolean,
  ) {
    this.generators = shared ? [new TorchGenerator(seed)] : imageSeeds(seed, batch).map((s) => new TorchGenerator(s));
  }

  /** Noise of shape [batch, ...perImage]. */
  draw(perImage: readonly number[]): Float32Array {
    if (this.shared) return this.generators[0]!.randn([this.batch, ...perImage]);
    const size = perImage.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size * this.batch);
    this.generators.forEach((g, i) => out.set(g.randn([1, ...perImage]), i * size));
    return out;
  }
}
