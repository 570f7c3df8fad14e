// The Generate panel's state: every field of a GenerationRequest plus the UI-only choices (seed lock,
// batch count). It turns itself into a validated request and takes one back (reuse, dropped PNG).
import { DEFAULT_REQUEST, GenerationRequest, type GenerationRequestInput } from '../../../main/contract/generation.ts';
import type { InstalledModel } from '../../../main/contract/api.ts';
import { randomSeed } from './seed.ts';

export const STEP_CHOICES = [1, 2, 4] as const;
export const SIZE_CHOICES = [
  { label: '512 × 512', width: 512, height: 512 },
  { label: '512 × 768 portrait', width: 512, height: 768 },
  { label: '768 × 512 landscape', width: 768, height: 512 },
  { label: '640 × 640', width: 640, height: 640 },
  { label: '256 × 256 draft', width: 256, height: 256 },
  { label: '64 × 64 tiny', width: 64, height: 64 },
] as const;

export type FormResult =
  | { ok: true; request: GenerationRequest; count: number }
  | { ok: false; errors: Record<string, string> };

export class GenerateForm {
  prompt = $state('');
  negativePrompt = $state('');
  seed = $state(0);
  /** Locked: the same seed every time. Unlocked: a new seed after each generate (the dice). */
  seedLocked = $state(false);
  steps = $state(DEFAULT_REQUEST.steps);
  guidance = $state(DEFAULT_REQUEST.guidance);
  width = $state(DEFAULT_REQUEST.width);
  height = $state(DEFAULT_REQUEST.height);
  batchSize = $state(1);
  batchCount = $state(1);
  baseModelId = $state('');
  loraId = $state<string | null>(null);
  loraScale = $state(1);
  /** Live mode: a quick picture follows every change of the form (generate.live); Generate keeps one. */
  live = $state(false);

  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
    this.seed = randomSeed(random);
  }

  /** Field errors as the user should read them; empty when the form can be sent. */
  errors = $derived.by(() => {
    const result = this.#parse();
    return result.ok ? {} : result.errors;
  });

  valid = $derived(Object.keys(this.errors).length === 0);

  /** Picking a base model brings its recommended steps and guidance, when it has them. */
  chooseBaseModel(model: Pick<InstalledModel, 'id' | 'recommended'>): void {
    this.baseModelId = model.id;
    if (model.recommended) {
      this.steps = model.recommended.steps;
      this.guidance = model.recommended.guidance;
    }
  }

  rollSeed(): void {
    this.seed = randomSeed(this.#random);
  }

  toRequest(): FormResult {
    return this.#parse();
  }

  /** After a generate was queued: the dice rolls unless the seed is locked. */
  afterEnqueue(): void {
    if (!this.seedLocked) this.rollSeed();
  }

  /** Loads parameters (reuse from history, a dropped PNG); fields not given keep their values. */
  apply(request: Partial<GenerationRequestInput>, options: { keepModel?: boolean } = {}): void {
    if (request.prompt !== undefined) this.prompt = request.prompt;
    if (request.negativePrompt !== undefined) this.negativePrompt = request.negativePrompt;
    if (request.seed !== undefined) {
      this.seed = request.seed;
      // Reusing a seed means wanting it again: lock it so the next generate does not reroll it.
      this.seedLocked = true;
    }
    if (request.steps !== undefined) this.steps = request.steps;
    if (request.guidance !== undefined) this.guidance = request.guidance;
    if (request.width !== undefined) this.width = request.width;
    if (request.height !== undefined) this.height = request.height;
    if (request.batchSize !== undefined) this.batchSize = request.batchSize;
    if (!options.keepModel && request.baseModelId) this.baseModelId = request.baseModelId;
    if (request.lora !== undefined) {
      this.loraId = request.lora?.id ?? null;
      if (request.lora) this.loraScale = request.lora.scale;
    }
  }

  #parse(): FormResult {
    const errors: Record<string, string> = {};
    if (!this.baseModelId) errors.baseModelId = 'Choose a base model (Models tab to install one)';
    const count = Math.trunc(this.batchCount);
    if (!(count >= 1 && count <= 100)) errors.batchCount = 'Batch count must be 1 to 100';
    const parsed = GenerationRequest.safeParse({
      prompt: this.prompt,
      negativePrompt: this.negativePrompt,
      seed: this.seed,
      steps: this.steps,
      guidance: this.guidance,
      width: this.width,
      height: this.height,
      batchSize: this.batchSize,
      sharedNoise: false,
      baseModelId: this.baseModelId || 'none',
      lora: this.loraId ? { id: this.loraId, scale: this.loraScale } : null,
      sampler: 'lcm',
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'request');
        errors[field] ??= `${labelOf(field)} ${issue.message}`;
      }
    }
    if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
    return { ok: true, request: parsed.data, count };
  }
}

function labelOf(field: string): string {
  const labels: Record<string, string> = {
    seed: 'Seed',
    steps: 'Steps',
    guidance: 'Guidance',
    width: 'Width',
    height: 'Height',
    batchSize: 'Batch size',
    lora: 'LoRA strength',
    prompt: 'Prompt',
    negativePrompt: 'Negative prompt',
  };
  return labels[field] ?? field;
}
