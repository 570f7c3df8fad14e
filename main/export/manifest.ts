// The export manifest: one row per exported image, as CSV (RFC 4180, UTF-8 with BOM so Excel
// opens non-Latin prompts correctly) and as JSON.
import type { HistoryItem } from '../history/index.ts';

export interface ManifestRow {
  file: string;
  prompt: string;
  negative: string;
  seed: number;
  steps: number;
  guidance: number;
  size: string;
  model: string;
  lora: string;
  scale: number | null;
  created: string;
}

export const MANIFEST_COLUMNS: ReadonlyArray<keyof ManifestRow> = [
  'file', 'prompt', 'negative', 'seed', 'steps', 'guidance', 'size', 'model', 'lora', 'scale', 'created',
];

export function manifestRow(file: string, item: HistoryItem): ManifestRow {
  const r = item.request;
  return {
    file,
    prompt: r.prompt,
    negative: r.negativePrompt,
    seed: item.seed,
    steps: r.steps,
    guidance: r.guidance,
    size: `${r.width}x${r.height}`,
    model: r.baseModelId,
    lora: r.lora?.id ?? '',
    scale: r.lora?.scale ?? null,
    created: item.createdAt,
  };
}

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function manifestCsv(rows: readonly ManifestRow[]): string {
  const lines = [MANIFEST_COLUMNS.join(',')];
  for (const row of rows) lines.push(MANIFEST_COLUMNS.map((c) => csvField(row[c])).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export function manifestJson(rows: readonly ManifestRow[]): string {
  return `${JSON.stringify({ format: 'yoso-studio-export/1', images: rows }, null, 2)}\n`;
}
