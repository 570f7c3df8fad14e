// The inference process's use of the native-models pipeline: load (and keep) the pipeline of a
// model folder, run one request with progress and an AbortSignal, encode each image as PNG.
import type { z } from 'zod';
import { ort } from '../../native-models/src/onnx/ort.ts';
import type { ToWorker, WorkerImage } from './protocol.ts';

type GenerateMessage = Extract<z.output<typeof ToWorker>, { type: 'generate' }>;


export interface WorkerCallbacks {
  onProgress(stage: string, step: number, steps: number): void;
  onImage(image: WorkerImage): void;
}

export async function availableProviders(): Promise<string[]> {
  return ort.listSupportedBackends().map((backend) => backend.name);
}

export async function generate(
  _message: GenerateMessage,
  signal: AbortSignal,
  _callbacks: WorkerCallbacks,
): Promise<{ provider: string; timingsMs: Record<string, number> }> {
  signal.throwIfAborted();
  throw new Error('the native-models pipeline is not merged into this build yet');
}

export async function releaseModel(_baseDir: string): Promise<void> {}
