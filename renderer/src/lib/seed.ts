import { RANDOM_SEED_LIMIT } from '../../../main/contract/generation.ts';

/** A random seed below 2^32, as A1111 draws them (so seeds stay short enough to read out). */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * RANDOM_SEED_LIMIT);
}
