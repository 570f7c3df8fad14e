// A1111's extra-network prompt syntax: `<lora:NAME>`, `<lora:NAME:WEIGHT>`,
// `<lora:NAME:TE_WEIGHT:UNET_WEIGHT>`, `<lora:NAME:unet=W:te=W>` (and `lyco:` as an alias),
// taken out of the prompt text before it reaches the text encoder, as webui's extra_networks does.
// The tags stay in the prompt A1111 reports (all_prompts, the PNG text): that is what reproduces it.

export interface PromptLora {
  name: string;
  /** One strength; A1111's default multiplier is 1. */
  weight: number;
}

export class LoraSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoraSyntaxError';
  }
}

/** webui's `re_extra_net`: `<kind:args>` with a word for the kind. */
const EXTRA_NETWORK = /<(\w+):([^>]+)>/g;
const LORA_KINDS = new Set(['lora', 'lyco']);

function parseWeight(text: string, tag: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new LoraSyntaxError(`${tag}: "${text}" is not a number; write the weight like <lora:name:0.8>`);
  }
  return value;
}

function parseTag(kind: string, args: string, tag: string): PromptLora {
  if (!LORA_KINDS.has(kind.toLowerCase())) {
    throw new LoraSyntaxError(`${tag}: extra network "${kind}" is not supported; only <lora:NAME:WEIGHT> is`);
  }
  const [rawName = '', ...rest] = args.split(':');
  const name = rawName.trim();
  if (name === '') throw new LoraSyntaxError(`${tag}: the LoRA name is empty; write <lora:NAME:WEIGHT>`);
  const positional: number[] = [];
  const named: Record<string, number> = {};
  for (const arg of rest) {
    const eq = arg.indexOf('=');
    if (eq === -1) positional.push(parseWeight(arg, tag));
    else named[arg.slice(0, eq).trim().toLowerCase()] = parseWeight(arg.slice(eq + 1), tag);
  }
  for (const key of Object.keys(named)) {
    if (key !== 'te' && key !== 'unet') {
      throw new LoraSyntaxError(`${tag}: "${key}=" is not supported; use te= and unet= or one weight`);
    }
  }
  const te = named.te ?? positional[0] ?? 1;
  const unet = named.unet ?? positional[1] ?? named.te ?? positional[0] ?? 1;
  if (positional.length > 2) throw new LoraSyntaxError(`${tag}: too many weights; write <lora:NAME:WEIGHT>`);
  if (te !== unet) {
    throw new LoraSyntaxError(`${tag}: separate text-encoder (${te}) and UNet (${unet}) weights are not supported; give one weight`);
  }
  return { name, weight: unet };
}

/** Splits the prompt into the text for the encoder and the LoRA tags it carried. */
export function parseLoraPrompt(prompt: string): { text: string; loras: PromptLora[] } {
  const loras: PromptLora[] = [];
  const text = prompt.replace(EXTRA_NETWORK, (tag: string, kind: string, args: string) => {
    loras.push(parseTag(kind, args, tag));
    return '';
  });
  // The tag usually sits after a comma: do not leave ", ," or a dangling comma behind.
  const tidy = text
    .replace(/\s*,(\s*,)+/g, ',')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/^[\s,]+|[\s,]+$/g, '');
  return { text: tidy, loras };
}
