// Model names as A1111 clients send them: a checkpoint title ("name.safetensors [abcdef1234]"),
// a model_name ("name"), a file name; LoRAs by file name without extension. We list our library
// ids as titles and names, and accept any of those spellings back.
import type { InstalledModel } from '../contract/api.ts';

/** "dir/name.safetensors [abcdef1234]" → "name". */
export function checkpointStem(name: string): string {
  const withoutHash = name.replace(/\s*\[[0-9a-fA-F]{8,64}\]\s*$/, '');
  const base = withoutHash.split(/[\\/]/).pop() ?? withoutHash;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|onnx)$/i, '').trim();
}

/**
 * The name A1111 shows: a LoRA's file name without extension ("yoso_lora" for the catalog's
 * yoso-sd15-lora/yoso_lora.safetensors), a base model's folder (our id).
 */
export function a1111Name(model: InstalledModel): string {
  return model.kind === 'lora' ? checkpointStem(model.path) : model.id;
}

/** The installed model of `kind` that `name` means (id, A1111 name or display name), exact first. */
export function findModel(models: readonly InstalledModel[], kind: InstalledModel['kind'], name: string): InstalledModel | null {
  const candidates = models.filter((m) => m.kind === kind);
  const wanted = [name.trim(), checkpointStem(name)];
  const spellings = (m: InstalledModel) => [m.id, a1111Name(m), m.name];
  for (const key of wanted) {
    const exact = candidates.find((m) => spellings(m).includes(key));
    if (exact) return exact;
  }
  for (const key of wanted.map((k) => k.toLowerCase())) {
    const loose = candidates.find((m) => spellings(m).some((s) => s.toLowerCase() === key));
    if (loose) return loose;
  }
  return null;
}

export function namesOf(models: readonly InstalledModel[], kind: InstalledModel['kind']): string {
  const ids = models.filter((m) => m.kind === kind).map(a1111Name).sort();
  return ids.length > 0 ? ids.join(', ') : '(none installed)';
}
