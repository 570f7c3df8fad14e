// A real studio for tests: temp data folder, a models folder holding a symlink `tiny` to the
// tiny-sd15 fixture (nothing copied), a real inference child process, and optionally the HTTP
// server on an ephemeral loopback port.
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath, TINY_SD15 } from '../../native-models/test/fixtures.ts';
import { openStudio, type Studio } from '../api/studio.ts';
import { NodeProcessHost } from '../inference/node-process-host.ts';
import { StudioServer } from '../server/http-server.ts';
import type { GenerationRequest } from '../contract/generation.ts';

export const TINY_MODEL_ID = 'tiny';
/** The fixture's kohya LoRA, linked as `<models>/tiny-style.safetensors`. */
export const TINY_LORA_ID = 'tiny-style';

export interface TestStudio {
  studio: Studio;
  root: string;
  dataDir: string;
  modelsDir: string;
  /** Set when started with `http`. */
  server: StudioServer | null;
  url: URL | null;
  close(): Promise<void>;
}

export interface TestStudioOptions {
  http?: boolean;
  token?: string | null;
  rendererDir?: string;
  /** Also link the fixture's LoRA as TINY_LORA_ID. */
  lora?: boolean;
  /** Fills the data folder before the studio opens it (e.g. files left by an earlier run). */
  prepareData?: (dataDir: string) => Promise<void>;
}

export async function startTestStudio(options: TestStudioOptions = {}): Promise<TestStudio> {
  const root = mkdtempSync(join(tmpdir(), 'yoso-server-test-'));
  const dataDir = join(root, 'data');
  const modelsDir = join(root, 'models');
  mkdirSync(modelsDir, { recursive: true });
  symlinkSync(TINY_SD15(), join(modelsDir, TINY_MODEL_ID), 'dir');
  if (options.lora) {
    symlinkSync(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'), join(modelsDir, `${TINY_LORA_ID}.safetensors`));
  }
  await options.prepareData?.(dataDir);
  const studio = await openStudio({ dataDir, modelsDir, host: new NodeProcessHost() });
  // No GPU here: 'auto' would try CUDA first on Linux and log its failure on every load.
  await studio.handlers['settings.set']({ provider: 'cpu' });
  let server: StudioServer | null = null;
  let url: URL | null = null;
  if (options.http) {
    server = new StudioServer({
      studio,
      rendererDir: options.rendererDir ?? join(root, 'renderer'),
      access: { token: options.token ?? null },
    });
    url = await server.listen(0, '127.0.0.1');
  }
  return {
    studio,
    root,
    dataDir,
    modelsDir,
    server,
    url,
    close: async () => {
      await server?.close();
      await studio.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A 64x64 request on the tiny fixture (its native size). */
export function tinyRequest(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt: 'a red fox in the snow',
    negativePrompt: '',
    seed: 42,
    steps: 2,
    guidance: 1,
    width: 64,
    height: 64,
    batchSize: 1,
    sharedNoise: false,
    baseModelId: TINY_MODEL_ID,
    lora: null,
    sampler: 'lcm',
    ...overrides,
  };
}
