// The catalog's shape (resources/catalog.json), validated when it is loaded so a bad edit fails
// with the entry and field named rather than at download time.
import { z } from 'zod';
import { ModelKind } from '../contract/api.ts';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

export const CatalogFile = z.object({
  /** Path inside the repo, forward slashes. */
  path: z.string().min(1),
  sizeBytes: z.number().int().positive().nullable().default(null),
  /** Checked before the file is moved into the models folder; null = use the Hub's LFS sha256. */
  sha256: Sha256.nullable().default(null),
});
export type CatalogFile = z.infer<typeof CatalogFile>;

export const Recommended = z.object({
  steps: z.number().int().min(1).max(8),
  guidance: z.number().min(0).max(30),
  /** Why: which combination the numbers are for (e.g. "YOSO on SD 1.5"). */
  note: z.string().default(''),
});

export const CatalogModel = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" or "-"'),
    name: z.string().min(1),
    kind: ModelKind,
    description: z.string(),
    /** Hugging Face repo ("owner/name") the files come from; null when there is no export to download. */
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/).nullable(),
    /** A commit sha pins the exact bytes; a branch name follows the repo. */
    revision: z.string().min(1).default('main'),
    /**
     * Exact files. Empty = every file of the standard ONNX pipeline layout the repo has
     * (model_index.json, scheduler/, text_encoder/, tokenizer/, unet/, vae_decoder/).
     */
    files: z.array(CatalogFile).default([]),
    /** Total download size, for the disk check and the UI before the Hub is asked. */
    sizeBytes: z.number().int().positive().nullable().default(null),
    license: z.string().min(1),
    /** Repo of the original (non-ONNX) weights, for credit and for the export command. */
    sourceRepo: z.string().nullable().default(null),
    /** Recommended sampling with the YOSO LoRA on this base. */
    recommended: Recommended.nullable().default(null),
    /** Element type of the exported UNet (fp16 exports need a provider that runs float16). */
    precision: z.enum(['fp32', 'fp16']).nullable().default(null),
    /** How to get the model when it cannot be downloaded ready-made (repo null). */
    manualInstructions: z.string().nullable().default(null),
    notes: z.string().default(''),
  })
  .superRefine((m, ctx) => {
    if (m.repo === null && !m.manualInstructions) {
      ctx.addIssue({ code: 'custom', message: 'an entry without repo needs manualInstructions', path: ['manualInstructions'] });
    }
    if (m.kind !== 'base' && m.files.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a ${m.kind} entry names exactly one file`, path: ['files'] });
    }
  });
export type CatalogModel = z.infer<typeof CatalogModel>;

export const Catalog = z
  .object({ version: z.literal(1), models: z.array(CatalogModel).min(1) })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.models.forEach((m, i) => {
      if (seen.has(m.id)) ctx.addIssue({ code: 'custom', message: `duplicate id ${m.id}`, path: ['models', i, 'id'] });
      seen.add(m.id);
    });
  });
export type Catalog = z.infer<typeof Catalog>;
