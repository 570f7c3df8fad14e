import { describe, expect, it } from 'vitest';
import { GenerateForm } from './generate-form.svelte.ts';

const fixedRandom = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('GenerateForm', () => {
  it('builds a valid request with the LoRA and its strength', () => {
    const form = new GenerateForm(fixedRandom(0.5));
    form.prompt = 'a red fox';
    form.baseModelId = 'dreamshaper';
    form.loraId = 'yoso';
    form.loraScale = 0.6;
    form.steps = 2;
    form.batchCount = 3;
    const result = form.toRequest();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.request).toMatchObject({ prompt: 'a red fox', seed: 2 ** 31, steps: 2, baseModelId: 'dreamshaper', lora: { id: 'yoso', scale: 0.6 } });
    expect(result.count).toBe(3);
  });

  it('names the field and the fix when the form cannot be sent', () => {
    const form = new GenerateForm();
    form.width = 500;
    expect(form.valid).toBe(false);
    expect(form.errors.baseModelId).toMatch(/Choose a base model/);
    expect(form.errors.width).toMatch(/Width must be a multiple of 8/);
    form.baseModelId = 'b';
    form.width = 512;
    expect(form.valid).toBe(true);
  });

  it('rolls the seed after a generate unless it is locked', () => {
    const form = new GenerateForm(fixedRandom(0.1, 0.2, 0.3));
    const first = form.seed;
    form.afterEnqueue();
    expect(form.seed).not.toBe(first);
    form.seedLocked = true;
    const locked = form.seed;
    form.afterEnqueue();
    expect(form.seed).toBe(locked);
  });

  it('applies reused parameters, locks the seed and keeps fields that were not given', () => {
    const form = new GenerateForm();
    form.negativePrompt = 'blurry';
    form.apply({ prompt: 'castle', seed: 7, steps: 4, lora: { id: 'yoso', scale: 0.3 }, baseModelId: 'icbinp' });
    expect(form.prompt).toBe('castle');
    expect(form.seed).toBe(7);
    expect(form.seedLocked).toBe(true);
    expect(form.negativePrompt).toBe('blurry');
    expect(form.baseModelId).toBe('icbinp');
    expect(form.loraScale).toBe(0.3);
    form.apply({ lora: null });
    expect(form.loraId).toBeNull();
  });
});

describe('GenerateForm.chooseBaseModel', () => {
  it("brings the model's recommended steps and guidance, and keeps them when it has none", () => {
    const form = new GenerateForm();
    form.chooseBaseModel({ id: 'dreamshaper', recommended: { steps: 4, guidance: 1.5 } });
    expect([form.baseModelId, form.steps, form.guidance]).toEqual(['dreamshaper', 4, 1.5]);
    form.chooseBaseModel({ id: 'sd15', recommended: null });
    expect([form.baseModelId, form.steps, form.guidance]).toEqual(['sd15', 4, 1.5]);
  });
});
