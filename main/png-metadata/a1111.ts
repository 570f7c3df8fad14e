// The AUTOMATIC1111 "parameters" text, as webui writes it (modules/processing.py create_infotext)
// and reads it (modules/infotext_utils.py parse_generation_parameters):
//
//   <prompt, may span lines>
//   Negative prompt: <negative, may span lines>          (omitted when empty)
//   Steps: 1, Sampler: LCM, CFG scale: 1.5, Seed: 318, Size: 512x512, Model hash: abcdef1234, ...
//
// Values with a comma, colon or newline are JSON-quoted. The last line counts as the parameter line
// only when it holds at least three `key: value` pairs, otherwise it is part of the prompt.

/** One `key: value` pair of the last line; a quoted value may hold commas. Same grammar as A1111. */
const PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

export interface A1111Parameters {
  prompt: string;
  negativePrompt: string;
  /** Raw values by key, quotes removed; `Size` is kept as written ("512x768"). */
  params: Record<string, string>;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not valid JSON: keep the text as written, the way A1111 does.
    }
  }
  return value;
}

function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

export function parseA1111Parameters(text: string): A1111Parameters {
  const lines = text.trim().split('\n');
  let last = lines.pop() ?? '';
  if ([...last.matchAll(PARAM)].length < 3) {
    lines.push(last);
    last = '';
  }
  const promptLines: string[] = [];
  const negativeLines: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice('Negative prompt:'.length).trim();
    }
    (inNegative ? negativeLines : promptLines).push(line);
  }
  const params: Record<string, string> = {};
  for (const match of last.matchAll(PARAM)) {
    const key = match[1]?.trim();
    if (key) params[key] = unquote((match[2] ?? '').trim());
  }
  return { prompt: promptLines.join('\n'), negativePrompt: negativeLines.join('\n'), params };
}

/** Formats A1111 text; params with an undefined/null value are left out, in the given order. */
export function formatA1111Parameters(
  prompt: string,
  negativePrompt: string,
  params: ReadonlyArray<readonly [string, string | number | null | undefined]>,
): string {
  const line = params
    .filter((entry): entry is readonly [string, string | number] => entry[1] !== undefined && entry[1] !== null)
    .map(([key, value]) => `${key}: ${quote(String(value))}`)
    .join(', ');
  const negative = negativePrompt ? `\nNegative prompt: ${negativePrompt}` : '';
  return `${prompt}${negative}\n${line}`;
}

export interface PromptLora {
  name: string;
  scale: number;
}

const LORA_TAG = /\s*,?\s*<(?:lora|lyco):([^:>]+)(?::([-+]?\d*\.?\d+))?[^>]*>/gi;

/** Takes `<lora:name:scale>` tags out of a prompt (A1111's extra-network syntax). */
export function extractLoraTags(prompt: string): { prompt: string; loras: PromptLora[] } {
  const loras: PromptLora[] = [];
  const cleaned = prompt.replace(LORA_TAG, (_all, name: string, scale: string | undefined) => {
    loras.push({ name: name.trim(), scale: scale === undefined ? 1 : Number(scale) });
    return '';
  });
  return { prompt: cleaned.replace(/^\s*,\s*/, '').trim(), loras };
}

/** A1111's `Lora hashes: "name: hash, name2: hash2"`. */
export function parseLoraHashes(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const colon = part.lastIndexOf(':');
    if (colon > 0) out.set(part.slice(0, colon).trim(), part.slice(colon + 1).trim());
  }
  return out;
}
