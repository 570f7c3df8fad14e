// What the pipeline needs from an ONNX folder in the standard (optimum / diffusers) layout:
// which files, and for each model which inputs and outputs with which element types. The check
// opens every session once and reports every problem it finds, each naming the file and the fix.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxSignature, OnnxValueInfo } from '../../native-models/src/onnx/inspect.ts';

export const REQUIRED_FILES = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
] as const;

/** Folders copied on import (vae_encoder is optional: only img2img would use it). */
export const PIPELINE_FOLDERS = ['scheduler', 'tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'vae_encoder'] as const;

const FLOAT = ['float32', 'float16'];
interface Expected {
  inputs: Record<string, string[]>;
  outputs: Record<string, string[]>;
}

export const EXPECTED_SIGNATURES: Record<'text_encoder' | 'unet' | 'vae_decoder', Expected> = {
  text_encoder: { inputs: { input_ids: ['int32', 'int64'] }, outputs: { last_hidden_state: FLOAT } },
  unet: {
    inputs: { sample: FLOAT, timestep: ['int64', 'int32', 'float32', 'float16'], encoder_hidden_states: FLOAT },
    outputs: { out_sample: FLOAT },
  },
  vae_decoder: { inputs: { latent_sample: FLOAT }, outputs: { sample: FLOAT } },
};

export type Inspector = (modelPath: string) => Promise<OnnxSignature>;

function checkValues(where: string, kind: 'input' | 'output', actual: OnnxValueInfo[], expected: Record<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [name, types] of Object.entries(expected)) {
    const found = actual.find((v) => v.name === name);
    if (!found) {
      const have = actual.map((v) => v.name).join(', ') || 'none';
      problems.push(`${where} has no ${kind} "${name}" (it has: ${have}); re-export with optimum-cli export onnx --task text-to-image`);
    } else if (!types.includes(found.type)) {
      problems.push(`${where} ${kind} "${name}" is ${found.type}, the pipeline needs ${types.join(' or ')}`);
    }
  }
  if (kind === 'input') {
    for (const extra of actual.filter((v) => !(v.name in expected))) {
      problems.push(`${where} has an input "${extra.name}" the SD 1.5 pipeline does not feed (an SDXL or ControlNet UNet?)`);
    }
  }
  return problems;
}

const lastDim = (v: OnnxValueInfo | undefined) => {
  const d = v?.shape[v.shape.length - 1];
  return typeof d === 'number' ? d : null;
};

export interface OnnxFolderSummary {
  signatures: Record<keyof typeof EXPECTED_SIGNATURES, OnnxSignature>;
  /** Text embedding width (768 for SD 1.5), when the export fixes it. */
  embeddingDim: number | null;
  precision: 'fp32' | 'fp16';
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Returns every problem found (empty = the folder is usable) plus what could be read. */
export async function checkOnnxFolder(dir: string, inspect: Inspector): Promise<{ problems: string[]; summary: OnnxFolderSummary | null }> {
  const problems: string[] = [];
  for (const file of REQUIRED_FILES) {
    if (!(await isFile(join(dir, file)))) problems.push(`${file} is missing`);
  }
  if (problems.length === REQUIRED_FILES.length) {
    let entries: string[] = [];
    try {
      entries = await readdir(dir);
    } catch {
      /* reported below */
    }
    const hint = entries.some((e) => e.endsWith('.safetensors') || e.endsWith('.ckpt'))
      ? 'it holds a single-file checkpoint; convert it to an ONNX folder first'
      : 'expected an ONNX pipeline folder in the optimum layout (model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/)';
    return { problems: [`${dir} is not an ONNX pipeline folder: ${hint}`], summary: null };
  }
  // Opening sessions takes seconds on a real model: name the missing files first.
  if (problems.length > 0) return { problems, summary: null };
  const signatures: Partial<OnnxFolderSummary['signatures']> = {};
  for (const [component, expected] of Object.entries(EXPECTED_SIGNATURES) as Array<[keyof typeof EXPECTED_SIGNATURES, Expected]>) {
    const file = `${component}/model.onnx`;
    if (!(await isFile(join(dir, file)))) continue;
    let sig: OnnxSignature;
    try {
      sig = await inspect(join(dir, file));
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      problems.push(`${file} cannot be opened by ONNX Runtime (${message}); the file is damaged or its external weights (model.onnx_data) are missing`);
      continue;
    }
    signatures[component] = sig;
    problems.push(...checkValues(file, 'input', sig.inputs, expected.inputs), ...checkValues(file, 'output', sig.outputs, expected.outputs));
  }
  const textDim = lastDim(signatures.text_encoder?.outputs.find((o) => o.name === 'last_hidden_state'));
  const unetDim = lastDim(signatures.unet?.inputs.find((i) => i.name === 'encoder_hidden_states'));
  if (textDim !== null && unetDim !== null && textDim !== unetDim) {
    problems.push(`text_encoder/model.onnx makes ${textDim}-wide embeddings but unet/model.onnx expects ${unetDim}: the folders come from different models`);
  }
  const dim = textDim ?? unetDim;
  if (dim === 1024) problems.push('the text embeddings are 1024 wide: this is an SD 2.x model, the app runs SD 1.5 (768)');
  if (problems.length > 0 || !signatures.text_encoder || !signatures.unet || !signatures.vae_decoder) {
    return { problems, summary: null };
  }
  const unetSample = signatures.unet.inputs.find((i) => i.name === 'sample');
  return {
    problems,
    summary: {
      signatures: signatures as OnnxFolderSummary['signatures'],
      embeddingDim: dim,
      precision: unetSample?.type === 'float16' ? 'fp16' : 'fp32',
    },
  };
}
