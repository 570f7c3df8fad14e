// The `images` row, its mapping to HistoryItem, and building a row from our PNG metadata
// (the one record both saveGeneration and re-import go through).
import { GenerationRequest } from '../contract/generation.ts';
import type { YosoImageMetadata } from '../png-metadata/index.ts';
import type { HistoryItem } from './types.ts';

export interface ImageRow {
  rowid: number;
  id: string;
  created_at: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  base_model_id: string;
  base_model_name: string;
  base_model_hash: string | null;
  lora_id: string | null;
  lora_name: string | null;
  lora_hash: string | null;
  lora_scale: number | null;
  provider: string;
  timings_json: string;
  batch_id: string;
  batch_index: number;
  request_json: string;
  image_path: string;
  thumbnail_path: string | null;
  favourite: 0 | 1;
  missing: 0 | 1;
  deleted_at: string | null;
  delete_token: string | null;
  /** Comma-free tag list from a GROUP_CONCAT with a unit separator. */
  tags?: string | null;
}

export type NewImageRow = Omit<ImageRow, 'rowid' | 'favourite' | 'missing' | 'deleted_at' | 'delete_token' | 'tags'>;

export const TAG_SEPARATOR = '\u001f';

export function rowFromMetadata(meta: YosoImageMetadata, imagePath: string, thumbnailPath: string | null): NewImageRow {
  const r = meta.request;
  return {
    id: meta.id,
    created_at: meta.createdAt,
    prompt: r.prompt,
    negative_prompt: r.negativePrompt,
    seed: meta.seed,
    steps: r.steps,
    guidance: r.guidance,
    width: r.width,
    height: r.height,
    base_model_id: meta.baseModel.id,
    base_model_name: meta.baseModel.name,
    base_model_hash: meta.baseModel.hash,
    lora_id: meta.lora?.id ?? null,
    lora_name: meta.lora?.name ?? null,
    lora_hash: meta.lora?.hash ?? null,
    lora_scale: meta.lora?.scale ?? null,
    provider: meta.provider,
    timings_json: JSON.stringify(meta.timingsMs),
    batch_id: meta.batch.id,
    batch_index: meta.batch.index,
    request_json: JSON.stringify(r),
    image_path: imagePath,
    thumbnail_path: thumbnailPath,
  };
}

export function rowToItem(row: ImageRow): HistoryItem {
  return {
    id: row.id,
    createdAt: row.created_at,
    request: GenerationRequest.parse(JSON.parse(row.request_json)),
    seed: row.seed,
    batchId: row.batch_id,
    batchIndex: row.batch_index,
    baseModelName: row.base_model_name,
    baseModelHash: row.base_model_hash,
    loraName: row.lora_name,
    loraHash: row.lora_hash,
    provider: row.provider,
    timingsMs: JSON.parse(row.timings_json) as Record<string, number>,
    imagePath: row.image_path,
    thumbnailPath: row.thumbnail_path,
    favourite: row.favourite === 1,
    missing: row.missing === 1,
    tags: row.tags ? row.tags.split(TAG_SEPARATOR) : [],
  };
}

export const INSERT_COLUMNS = [
  'id', 'created_at', 'prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'width', 'height',
  'base_model_id', 'base_model_name', 'base_model_hash', 'lora_id', 'lora_name', 'lora_hash', 'lora_scale',
  'provider', 'timings_json', 'batch_id', 'batch_index', 'request_json', 'image_path', 'thumbnail_path',
] as const satisfies ReadonlyArray<keyof NewImageRow>;

export const INSERT_SQL = `INSERT INTO images (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map((c) => '@' + c).join(', ')})`;
