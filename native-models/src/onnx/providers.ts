/**
 * Execution provider choice. `auto` tries the accelerator the platform usually has (DirectML on
 * Windows, CoreML on macOS, CUDA on Linux) and falls back to CPU; an explicit provider that fails to
 * start also falls back to CPU. Either way the session records which provider ran and why.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ort } from './ort.ts';

export const PROVIDERS = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ProviderChoice = (typeof PROVIDERS)[number];
export type ExecutionProvider = Exclude<ProviderChoice, 'auto'>;

export interface ProviderReport {
  requested: ProviderChoice;
  used: ExecutionProvider;
  /** Why `used` differs from what was asked for (or why auto settled on it). */
  fallbackReason?: string;
}

export function isProviderChoice(value: string): value is ProviderChoice {
  return (PROVIDERS as readonly string[]).includes(value);
}

/** Providers to try, best first, for a choice on this platform. CPU is always last. */
export function providerCandidates(choice: ProviderChoice, platform = process.platform): ExecutionProvider[] {
  if (choice === 'cpu') return ['cpu'];
  if (choice !== 'auto') return [choice, 'cpu'];
  const accelerator: Partial<Record<NodeJS.Platform, ExecutionProvider>> = {
    win32: 'dml',
    darwin: 'coreml',
    linux: 'cuda',
  };
  const preferred = accelerator[platform];
  return preferred ? [preferred, 'cpu'] : ['cpu'];
}

/** Backends this onnxruntime-node build knows (a listed one may still fail for lack of drivers). */
export function availableBackends(): string[] {
  try {
    return ort.listSupportedBackends().map((b) => b.name);
  } catch {
    return ['cpu'];
  }
}

/**
 * onnxruntime-node loads CUDA's provider library on demand; installs made with
 * ONNXRUNTIME_NODE_INSTALL=skip lack it. `auto` skips CUDA then (an explicit `cuda` still tries),
 * which avoids a failed start and onnxruntime's error log on every CPU-only Linux machine.
 * Returns the reason to skip, or null.
 */
export function missingProviderLibrary(provider: ExecutionProvider, platform = process.platform, arch = process.arch): string | null {
  if (provider !== 'cuda' || platform !== 'linux') return null;
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const binDir = join(dirname(entry), '..', 'bin', 'napi-v6', platform, arch);
    const lib = join(binDir, 'libonnxruntime_providers_cuda.so');
    return existsSync(lib) ? null : `cuda: ${lib} is not installed (reinstall onnxruntime-node without ONNXRUNTIME_NODE_INSTALL=skip)`;
  } catch {
    return null;
  }
}
