// Test factories: valid contract records with overridable fields (Immich style).
import type { HistoryItem, InstalledModel, Job } from '../../../main/contract/api.ts';
import { DEFAULT_REQUEST, type GenerationRequest } from '../../../main/contract/generation.ts';

let sequence = 0;
const nextId = (prefix: string) => `${prefix}-${++sequence}`;

export function requestFactory(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { ...DEFAULT_REQUEST, prompt: 'a lighthouse at dusk', seed: 42, baseModelId: 'base-a', ...overrides };
}

export function historyItemFactory(overrides: Partial<HistoryItem> = {}): HistoryItem {
  const id = overrides.id ?? nextId('img');
  const request = overrides.request ?? requestFactory();
  return {
    id,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
    request,
    seed: request.seed,
    batchId: 'batch-1',
    batchIndex: 0,
    baseModelName: request.baseModelId,
    loraName: null,
    provider: 'cpu',
    timingsMs: { total: 120 },
    imagePath: `images/${id}.png`,
    thumbnailPath: `thumbs/${id}.webp`,
    favourite: false,
    missing: false,
    tags: [],
    ...overrides,
  };
}

export function jobFactory(overrides: Partial<Job> = {}): Job {
  return {
    id: nextId('job'),
    state: 'queued',
    request: requestFactory(),
    origin: 'studio',
    createdAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    imageIds: [],
    error: null,
    progress: null,
    ...overrides,
  };
}

export function modelFactory(overrides: Partial<InstalledModel> = {}): InstalledModel {
  const id = overrides.id ?? nextId('model');
  return { id, name: id, kind: 'base', path: id, sizeBytes: 1000, source: 'imported', recommended: null, ...overrides };
}
