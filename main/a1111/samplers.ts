// Sampler names. YOSO runs one sampler, LCM, whose timesteps are its own: A1111's schedule types
// (Karras, Exponential, …, or the older "<sampler> Karras" names) cannot change them, so every
// LCM-family name maps to LCM. Any other sampler is refused, with the list of what we run, rather
// than silently swapped: a client asking for "Euler a" at 20 steps expects a different picture.
import { A1111HttpError } from './errors.ts';

export const LCM_SAMPLER = { name: 'LCM', aliases: ['lcm', 'k_lcm'], options: {} } as const;

/** `/sdapi/v1/samplers`: the one sampler, in A1111's SamplerItem shape. */
export const SAMPLERS = [LCM_SAMPLER];

/** Schedule types A1111 (1.9+) lists and its pre-1.9 sampler names append. */
const SCHEDULE_SUFFIXES = ['automatic', 'uniform', 'karras', 'exponential', 'polyexponential', 'sgm uniform', 'kl optimal', 'align your steps', 'simple', 'normal', 'ddim', 'beta'];

const SUPPORTED_TEXT =
  'YOSO Studio runs one sampler: LCM (also accepted: "lcm", "k_lcm", and LCM with a schedule type such as "LCM Karras"; LCM keeps its own timesteps)';

function isLcmName(name: string): boolean {
  const normal = name.trim().toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ');
  if (normal === 'lcm' || normal === 'k lcm') return true;
  if (!normal.startsWith('lcm ')) return false;
  return SCHEDULE_SUFFIXES.includes(normal.slice(4));
}

/**
 * Our sampler for an A1111 `sampler_name`/`sampler_index` (absent = LCM). Throws A1111's answer
 * for an unknown sampler (404 "Sampler not found"), naming the sampler and what we support.
 */
export function resolveSampler(name: string | undefined): 'lcm' {
  if (name === undefined || name.trim() === '' || isLcmName(name)) return 'lcm';
  throw new A1111HttpError(404, `Sampler not found: "${name}". ${SUPPORTED_TEXT}.`);
}
