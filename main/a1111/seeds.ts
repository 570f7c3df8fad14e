// Seeds as A1111 gives them: -1 (or none) draws a random seed below 2^32, and image i of a request
// (batch_size × n_iter, counted batch by batch) gets seed + i. Our pipeline draws each image's noise
// from its own seed, so image i equals a single-image request with seed + i.
import { randomInt } from 'node:crypto';
import { MAX_SEED, RANDOM_SEED_LIMIT } from '../contract/generation.ts';
import { A1111ValidationError } from './errors.ts';

export function resolveSeed(seed: number | undefined, imageCount: number, field = 'seed'): number {
  if (seed === undefined || seed === -1) return randomInt(0, RANDOM_SEED_LIMIT);
  if (seed < 0 || seed + imageCount - 1 > MAX_SEED) {
    throw new A1111ValidationError([
      {
        loc: ['body', field],
        msg: `seed must be -1 (random) or a whole number from 0 to ${MAX_SEED - imageCount + 1} for ${imageCount} image(s)`,
        type: 'value_error',
      },
    ]);
  }
  return seed;
}

/** `all_seeds`: one per image, in the order the images come back. */
export function seedsFor(seed: number, imageCount: number): number[] {
  return Array.from({ length: imageCount }, (_, i) => seed + i);
}
