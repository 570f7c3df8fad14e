// Turns the tensors of a LoRA .safetensors file into low-rank layers, whatever naming the file
// uses: kohya (`lora_unet_<path_with_underscores>.lora_down.weight` / `.lora_up.weight` / `.alpha`,
// the YOSO file's format), peft (`unet.<path>.lora_A.weight` / `.lora_B.weight`) and diffusers
// (`unet.<path>.lora.down.weight` / `.lora.up.weight`, and the older
// `…attn1.processor.to_q_lora.down.weight`). Keys that are none of these are kept for the report.
import { readSafetensorsFile, toFloat32, type SafetensorsFile } from './safetensors.ts';

export type LoraComponent = 'unet' | 'text_encoder';

export interface LoraLayer {
  component: LoraComponent;
  /**
   * The module path with every '.' replaced by '_' — the only form a kohya key gives (its
   * underscores are ambiguous), and so the form all matching is done in.
   */
  flatName: string;
  down: Float32Array;
  downShape: number[];
  up: Float32Array;
  upShape: number[];
  rank: number;
  /** alpha / rank; 1 when the file stores no alpha (peft's default alpha = rank). */
  alphaScale: number;
  /** The file keys this layer was built from, for reports. */
  keys: string[];
}

export interface ParsedLora {
  layers: LoraLayer[];
  /** Keys that are not part of a complete down/up pair in a known format. */
  unrecognizedKeys: string[];
  /** Keys of components this app does not have (SDXL's second text encoder, …). */
  foreignKeys: string[];
}

type Role = 'down' | 'up' | 'alpha';
interface KeyParts {
  component: LoraComponent | 'foreign';
  flatName: string;
  role: Role;
}

const flat = (path: string) => path.replace(/\./g, '_');

const KOHYA_PREFIXES: Array<[string, LoraComponent | 'foreign']> = [
  ['lora_unet_', 'unet'],
  ['lora_te_', 'text_encoder'],
  ['lora_te1_', 'foreign'],
  ['lora_te2_', 'foreign'],
];
const DIFFUSERS_PREFIXES: Array<[string, LoraComponent | 'foreign']> = [
  ['unet.', 'unet'],
  ['base_model.model.', 'unet'],
  ['text_encoder.', 'text_encoder'],
  ['text_encoder_2.', 'foreign'],
];
const SUFFIXES: Array<[string, Role]> = [
  ['.lora_down.weight', 'down'],
  ['.lora_up.weight', 'up'],
  ['.lora_A.weight', 'down'],
  ['.lora_B.weight', 'up'],
  ['.lora.down.weight', 'down'],
  ['.lora.up.weight', 'up'],
  ['.alpha', 'alpha'],
];

/** Old diffusers attention-processor keys: `attn1.processor.to_out_lora` means `attn1.to_out.0`. */
function processorPath(path: string): string {
  return path.replace(/\.processor\.(to_q|to_k|to_v|to_out)_lora$/, (_m, p: string) => (p === 'to_out' ? '.to_out.0' : `.${p}`));
}

export function parseKey(key: string): KeyParts | undefined {
  const suffix = SUFFIXES.find(([s]) => key.endsWith(s));
  if (!suffix) {
    const processor = /^(.*)\.(down|up)\.weight$/.exec(key);
    if (!processor || !/_lora$/.test(processor[1]!)) return undefined;
    return parseWithRole(processor[1]!, processor[2] as Role);
  }
  return parseWithRole(key.slice(0, -suffix[0].length), suffix[1]);
}

function parseWithRole(stem: string, role: Role): KeyParts | undefined {
  for (const [prefix, component] of KOHYA_PREFIXES) {
    if (stem.startsWith(prefix)) return { component, flatName: stem.slice(prefix.length), role };
  }
  for (const [prefix, component] of DIFFUSERS_PREFIXES) {
    if (stem.startsWith(prefix)) return { component, flatName: flat(processorPath(stem.slice(prefix.length))), role };
  }
  return undefined;
}

export function layersFromSafetensors(file: SafetensorsFile): ParsedLora {
  const groups = new Map<string, { component: LoraComponent; flatName: string; keys: Partial<Record<Role, string>> }>();
  const unrecognizedKeys: string[] = [];
  const foreignKeys: string[] = [];
  for (const key of file.tensors.keys()) {
    const parts = parseKey(key);
    if (!parts) {
      unrecognizedKeys.push(key);
      continue;
    }
    if (parts.component === 'foreign') {
      foreignKeys.push(key);
      continue;
    }
    const id = `${parts.component}:${parts.flatName}`;
    const group = groups.get(id) ?? { component: parts.component, flatName: parts.flatName, keys: {} };
    if (group.keys[parts.role]) unrecognizedKeys.push(key); // two files merged badly: same role twice
    else group.keys[parts.role] = key;
    groups.set(id, group);
  }
  const layers: LoraLayer[] = [];
  for (const { component, flatName, keys } of groups.values()) {
    if (!keys.down || !keys.up) {
      unrecognizedKeys.push(...Object.values(keys));
      continue;
    }
    const down = file.tensors.get(keys.down)!;
    const up = file.tensors.get(keys.up)!;
    const rank = down.shape[0] ?? 0;
    if (rank === 0 || up.shape[1] !== rank || down.shape.length < 2 || up.shape.length < 2) {
      throw new Error(
        `LoRA layer ${flatName}: down ${JSON.stringify(down.shape)} and up ${JSON.stringify(up.shape)} are not a rank-r pair`,
      );
    }
    let alphaScale = 1;
    if (keys.alpha) {
      const alpha = toFloat32(keys.alpha, file.tensors.get(keys.alpha)!);
      if (alpha.length !== 1) throw new Error(`LoRA key ${keys.alpha} should hold one number, holds ${alpha.length}`);
      alphaScale = alpha[0]! / rank;
    }
    layers.push({
      component,
      flatName,
      down: toFloat32(keys.down, down),
      downShape: down.shape,
      up: toFloat32(keys.up, up),
      upShape: up.shape,
      rank,
      alphaScale,
      keys: [keys.down, keys.up, ...(keys.alpha ? [keys.alpha] : [])],
    });
  }
  return { layers, unrecognizedKeys, foreignKeys };
}

export async function readLoraFile(path: string): Promise<ParsedLora> {
  return layersFromSafetensors(await readSafetensorsFile(path));
}
