// Turns one "Generate" click into jobs: prompts from a list (one job per prompt) times the batch
// count (seed, seed + batchSize, … so no image repeats another's seed), as A1111's batch count
// and "prompts from file or textbox" do.
import { MAX_SEED, type GenerationRequest } from '../contract/generation.ts';

/** One prompt per non-empty line; blank lines and surrounding spaces are dropped. */
export function parsePromptList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

export function expandRequests(request: GenerationRequest, count: number, prompts?: string[]): GenerationRequest[] {
  const list = prompts && prompts.length > 0 ? prompts : [request.prompt];
  const requests: GenerationRequest[] = [];
  for (const prompt of list) {
    for (let i = 0; i < count; i++) {
      const seed = request.seed + i * request.batchSize;
      if (seed > MAX_SEED - (request.batchSize - 1)) {
        throw new RangeError(`seed ${request.seed} with batch count ${count} goes past the largest seed ${MAX_SEED}; pick a smaller seed`);
      }
      requests.push({ ...request, prompt, seed });
    }
  }
  return requests;
}
