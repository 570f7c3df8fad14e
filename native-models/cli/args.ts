// Argument checks shared by the generate CLI and the benchmark: each failure is one line that
// names the option, what was given and what is allowed.
import { existsSync, statSync } from 'node:fs';
import { isProviderChoice, type ProviderChoice } from '../src/onnx/providers.ts';
import { PROVIDERS } from '../src/onnx/providers.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function numberOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function seedOption(raw: string | undefined): bigint | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim()) || BigInt(raw.trim()) >= 1n << 64n) {
    throw new UsageError(`--seed must be an integer from 0 to 18446744073709551615 (got "${raw}")`);
  }
  return BigInt(raw.trim());
}

export function providerOption(raw: string | undefined): ProviderChoice {
  if (raw === undefined) return 'auto';
  if (!isProviderChoice(raw)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${raw}")`);
  return raw;
}

/** A comma-separated list such as "1,2,4". */
export function listOption<T>(name: string, raw: string | undefined, parse: (name: string, item: string) => T): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${name} must be a comma-separated list (got "${raw}")`);
  return items.map((item) => parse(name, item));
}

/** --lora FILE [--lora-scale S]: scale 1 by default; negative scales subtract the LoRA, as A1111 allows. */
export function loraOption(path: string | undefined, rawScale: string | undefined): { path: string; scale: number } | undefined {
  if (path === undefined) {
    if (rawScale !== undefined) throw new UsageError('--lora-scale needs --lora FILE.safetensors');
    return undefined;
  }
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--lora ${path} is not a file (give a LoRA .safetensors file)`);
  return { path, scale: numberOption('lora-scale', rawScale, -10, 10) ?? 1 };
}

/** One line for stderr: the message of the error without stack or onnxruntime's multi-line detail. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
