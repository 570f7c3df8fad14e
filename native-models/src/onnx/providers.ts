/**
 * Execution provider choice. `auto` tries the accelerator the platform usually has (DirectML on
 * Windows, CoreML on macOS, CUDA on Linux) and falls back to CPU; an explicit provider that fails to
 * start also falls back to CPU. Either way the session records which provider ran and why.
 */
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
