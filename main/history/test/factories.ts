// Test factories: temp data folders, requests and synthetic images through the real save path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DEFAULT_REQUEST, type GenerationRequest } from '../../contract/generation.ts';
import type { HistoryStore, PixelImage, SaveGenerationInput } from '../index.ts';

export function tempDir(t: TestContext | { after(fn: () => void): void }, prefix = 'yoso-history-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function makeRequest(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { ...DEFAULT_REQUEST, prompt: 'a red fox in the snow', seed: 318, baseModelId: 'sd15-base', ...overrides };
}

/** Random RGB pixels (deterministic per `seed`) so every image differs. */
export function randomImage(width: number, height: number, seed: number, batchIndex = 0): PixelImage {
  const pixels = new Uint8Array(width * height * 3);
  let s = (Math.imul(seed, 2654435761) ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < pixels.length; i++) {
    // xorshift32: incompressible noise, so file sizes are realistic for a generated image
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    pixels[i] = s >>> 24;
  }
  return { pixels, width, height, channels: 3, batchIndex };
}

export function saveInput(request: GenerationRequest, size = 32, extra: Partial<SaveGenerationInput> = {}): SaveGenerationInput {
  return {
    request,
    images: Array.from({ length: request.batchSize }, (_, i) => randomImage(size, size, request.seed + i, i)),
    provider: 'cpu',
    timingsMs: { unet: 120, vae: 40, total: 170 },
    baseModel: { id: request.baseModelId, name: 'Stable Diffusion 1.5', hash: 'cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516' },
    lora: request.lora ? { id: request.lora.id, name: 'YOSO', hash: '0123456789abcdef0123' } : null,
    ...extra,
  };
}

const WORDS = ['fox', 'castle', 'river', 'portrait', 'neon', 'forest', 'robot', 'sunset', 'cat', 'mountain', 'ocean', 'city'];

/** Saves `count` images in batches (size 32 px) with varied prompts, models and times. */
export async function fillGallery(store: HistoryStore, count: number, start = Date.parse('2026-01-01T12:00:00Z')) {
  const ids: string[] = [];
  for (let n = 0; n < count; ) {
    const batchSize = Math.min(4, count - n);
    const request = makeRequest({
      prompt: `${WORDS[n % WORDS.length]} and ${WORDS[(n * 7 + 3) % WORDS.length]}, number ${n}`,
      seed: 1000 + n,
      batchSize,
      baseModelId: n % 3 === 0 ? 'dreamshaper' : 'sd15-base',
    });
    const items = await store.saveGeneration(saveInput(request, 16, { createdAt: new Date(start + n * 60_000) }));
    ids.push(...items.map((i) => i.id));
    n += batchSize;
  }
  return ids;
}
