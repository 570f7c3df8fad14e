// Export file names from a template such as `{index}-{seed}-{prompt}`: every token is made safe
// for Windows, macOS and Linux (no separators, reserved characters or device names), the prompt is
// shortened, and the whole name is kept well under the 255-byte limit of common file systems.
import type { HistoryItem } from '../history/index.ts';

export const DEFAULT_TEMPLATE = '{index}-{seed}-{prompt}';
export const MAX_PROMPT_CHARS = 60;
export const MAX_NAME_BYTES = 150;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type TokenFn = (item: HistoryItem, index: number, total: number) => string;

const pad2 = (n: number) => String(n).padStart(2, '0');
const localDate = (iso: string) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
};
const localTime = (iso: string) => {
  const d = new Date(iso);
  return `${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
};

const TOKENS: Record<string, TokenFn> = {
  index: (_item, index, total) => String(index + 1).padStart(String(total).length, '0'),
  seed: (item) => String(item.seed),
  prompt: (item) => shorten(item.request.prompt, MAX_PROMPT_CHARS),
  negative: (item) => shorten(item.request.negativePrompt, MAX_PROMPT_CHARS),
  model: (item) => item.request.baseModelId,
  lora: (item) => item.request.lora?.id ?? 'none',
  steps: (item) => String(item.request.steps),
  guidance: (item) => String(item.request.guidance),
  width: (item) => String(item.request.width),
  height: (item) => String(item.request.height),
  date: (item) => localDate(item.createdAt),
  time: (item) => localTime(item.createdAt),
  id: (item) => item.id.slice(0, 8),
  batch: (item) => String(item.batchIndex),
};

export const TEMPLATE_TOKENS = Object.keys(TOKENS);

/** Checks a template once, before any file is written. */
export function validateTemplate(template: string): void {
  if (template.trim() === '') throw new TemplateError('the file name template is empty; try {index}-{seed}-{prompt}');
  for (const [, token] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(token! in TOKENS)) {
      throw new TemplateError(
        `unknown token {${token}} in the file name template; use ${TEMPLATE_TOKENS.map((t) => `{${t}}`).join(', ')}`,
      );
    }
  }
}

function shorten(text: string, maxChars: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length <= maxChars ? chars.join('') : chars.slice(0, maxChars).join('');
}

const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** One path segment safe on every platform: reserved characters -> '_', spaces -> '_', no trailing dots. */
export function safeSegment(text: string, maxBytes = MAX_NAME_BYTES): string {
  let name = text
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    .replace(/[\s,]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._\s-]+|[._\s]+$/g, '');
  let bytes = 0;
  let cut = '';
  for (const ch of name) {
    bytes += Buffer.byteLength(ch);
    if (bytes > maxBytes) break;
    cut += ch;
  }
  name = cut.replace(/[._\s]+$/g, '');
  if (name === '') name = 'image';
  if (WINDOWS_DEVICE.test(name)) name = `_${name}`;
  return name;
}

export function renderName(template: string, item: HistoryItem, index: number, total: number): string {
  const raw = template.replace(/\{([^}]*)\}/g, (_all, token: string) => TOKENS[token]!(item, index, total));
  return safeSegment(raw);
}

/** `name.png`, `name (2).png`, ...: the n-th candidate for a base name. */
export function candidateName(base: string, extension: string, attempt: number): string {
  return attempt === 1 ? `${base}${extension}` : `${base} (${attempt})${extension}`;
}
