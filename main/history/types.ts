// The history library's public shapes. Kept structurally identical to `HistoryItem` /
// `HistoryQuery` in main/contract/api.ts so the HTTP/IPC handlers can pass them through unchanged.
import type { GenerationRequest } from '../contract/generation.ts';

/** An image already encoded by encodeForHistory (in the inference process, off the main loop). */
export interface EncodedImage {
  /** The full image as PNG, without metadata chunks (the store adds them after IHDR). */
  png: Uint8Array;
  thumbnailPng: Uint8Array;
}

/**
 * One image the pipeline produced: raw pixels (8-bit, row-major, no padding) that the store
 * encodes, or the PNGs encodeForHistory made of them.
 */
export type GeneratedImage = PixelImage | PreEncodedImage;

interface ImageShape {
  width: number;
  height: number;
  channels: 3 | 4;
  /** Position in the UNet batch; its seed is request.seed + batchIndex unless sharedNoise. */
  batchIndex: number;
}

export interface PixelImage extends ImageShape {
  pixels: Uint8Array | Uint8ClampedArray;
  encoded?: undefined;
}

export interface PreEncodedImage extends ImageShape {
  encoded: EncodedImage;
  pixels?: undefined;
}

export interface ModelRef {
  id: string;
  /** Display name written as `Model:` in the A1111 text; defaults to the id. */
  name?: string;
  /** SHA-256 (hex) of the model file, or null when unknown. A1111 shows its first 10 hex digits. */
  hash?: string | null;
}

/** What the job runner hands over when a generation finishes. */
export interface SaveGenerationInput {
  request: GenerationRequest;
  images: GeneratedImage[];
  /** Execution provider that actually ran (e.g. 'cpu', 'cuda'). */
  provider: string;
  /** Stage timings in milliseconds, e.g. { textEncoder: 12, unet: 340, vae: 80, total: 450 }. */
  timingsMs: Record<string, number>;
  baseModel: ModelRef;
  /** The LoRA file that was fused (its scale comes from request.lora). */
  lora?: ModelRef | null;
  /** Groups the images of one job; generated when absent. */
  batchId?: string;
  createdAt?: Date;
}

export interface HistoryItem {
  id: string;
  createdAt: string;
  /** The request that makes exactly this image again (see `reuse`). */
  request: GenerationRequest;
  seed: number;
  batchId: string;
  batchIndex: number;
  baseModelName: string;
  baseModelHash: string | null;
  loraName: string | null;
  loraHash: string | null;
  provider: string;
  timingsMs: Record<string, number>;
  /** Relative to the data folder, '/'-separated. */
  imagePath: string;
  thumbnailPath: string | null;
  favourite: boolean;
  /** The image file was not found at the last reconcile. */
  missing: boolean;
  tags: string[];
}

export interface HistoryQuery {
  /** Full-text search on prompt and negative prompt (words, prefix match on the last one). */
  search?: string;
  baseModelId?: string;
  loraId?: string;
  favouritesOnly?: boolean;
  /** ISO times, inclusive `since`, exclusive `until`. */
  since?: string;
  until?: string;
  cursor?: string;
  /** Page size, 1..500, default 100. */
  limit?: number;
}

export interface HistoryPage {
  items: HistoryItem[];
  nextCursor: string | null;
  /** Count of all items that match the filters (not only this page). */
  total: number;
}

export interface DeleteReceipt {
  undoToken: string;
  deleted: number;
}

export interface ReconcileReport {
  /** Rows whose image file is gone: now flagged `missing` (never deleted). */
  missing: string[];
  /** Rows flagged missing earlier whose file is back. */
  found: string[];
  /** PNGs with no row that were re-imported from their embedded metadata. */
  reimported: string[];
  /** PNGs with no row and no readable metadata: left in place, listed here. */
  unreadable: string[];
  /** Unfinished temp files of interrupted writes (never reported saved): removed. */
  removedTempFiles: string[];
  /** Thumbnails rebuilt because theirs was missing. */
  thumbnailsRebuilt: number;
  /** Thumbnails whose image and row are both gone (derived data): removed. */
  removedThumbnails: string[];
}

export interface ImportResult {
  item: HistoryItem;
  source: 'yoso' | 'a1111' | 'comfyui';
  warnings: string[];
}
