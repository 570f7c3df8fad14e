// The Generate form survives a reload or a restart (as in A1111 and Fooocus): every change is
// written to localStorage, and read back (validated: old or foreign data is ignored) at start.
import { z } from 'zod';
import type { GenerateForm } from './generate-form.svelte.ts';

const KEY = 'yoso.generate-form.v1';

const Snapshot = z
  .object({
    prompt: z.string(),
    negativePrompt: z.string(),
    seed: z.number().int().nonnegative(),
    seedLocked: z.boolean(),
    steps: z.number().int().min(1).max(8),
    guidance: z.number(),
    width: z.number().int(),
    height: z.number().int(),
    batchCount: z.number().int().min(1).max(100),
    baseModelId: z.string(),
    loraId: z.string().nullable(),
    loraScale: z.number(),
    live: z.boolean(),
  })
  .partial();
type Snapshot = z.infer<typeof Snapshot>;

export function snapshotOf(form: GenerateForm): Required<Snapshot> {
  const { prompt, negativePrompt, seed, seedLocked, steps, guidance, width, height, batchCount, baseModelId, loraId, loraScale, live } = form;
  return { prompt, negativePrompt, seed, seedLocked, steps, guidance, width, height, batchCount, baseModelId, loraId, loraScale, live };
}

export function restoreForm(form: GenerateForm, storage: Pick<Storage, 'getItem'>): boolean {
  let raw: unknown;
  try {
    raw = JSON.parse(storage.getItem(KEY) ?? 'null');
  } catch {
    return false;
  }
  const parsed = Snapshot.safeParse(raw);
  if (!parsed.success || raw === null) return false;
  Object.assign(form, parsed.data);
  return true;
}

/** Starts writing every change; returns the function that stops it. */
export function persistForm(form: GenerateForm, storage: Pick<Storage, 'setItem'>): () => void {
  return $effect.root(() => {
    $effect(() => {
      const snapshot = snapshotOf(form);
      try {
        storage.setItem(KEY, JSON.stringify(snapshot));
      } catch {
        // A full or disabled storage only costs the convenience.
      }
    });
  });
}
