/**
 * The standard diffusers/optimum ONNX layout of a Stable Diffusion 1.5 model folder, validated
 * up front so that a bad folder fails with the file and what was expected, not deep in onnxruntime.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSchedulerConfig, type SchedulerConfig } from '../scheduler/scheduler-config.ts';

export interface ModelFolder {
  dir: string;
  pipelineClass: string;
  textEncoder: string;
  unet: string;
  /** unet/model.onnx_data when the UNet keeps its weights outside the graph (fp32 SD 1.5: 3.4 GB). */
  unetExternalData: string | null;
  vaeDecoder: string;
  tokenizerDir: string;
  schedulerConfig: SchedulerConfig;
  /** VAE latent scaling (vae_decoder/config.json scaling_factor; SD 1.5: 0.18215). */
  vaeScalingFactor: number;
  /** UNet down blocks: latents must be divisible by 2^(blocks-1); pixels by 8 times that. */
  unetDownBlocks: number;
}

export class ModelFolderError extends Error {
  constructor(
    readonly file: string,
    expected: string,
  ) {
    super(`${file}: ${expected}`);
    this.name = 'ModelFolderError';
  }
}

function requireFile(dir: string, relative: string, expected: string): string {
  const path = join(dir, relative);
  if (!existsSync(path)) throw new ModelFolderError(path, `missing; expected ${expected}`);
  const stat = statSync(path);
  if (!stat.isFile()) throw new ModelFolderError(path, `is not a file; expected ${expected}`);
  if (stat.size === 0) throw new ModelFolderError(path, `is empty; expected ${expected}`);
  return path;
}

function readJson(path: string, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelFolderError(path, `is not valid JSON (${(e as Error).message}); expected ${expected}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelFolderError(path, `expected ${expected}`);
  }
  return value as Record<string, unknown>;
}

function optionalJson(path: string): Record<string, unknown> | null {
  return existsSync(path) ? readJson(path, 'a JSON object') : null;
}

export function loadModelFolder(dirInput: string): ModelFolder {
  const dir = resolve(dirInput);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelFolderError(dir, 'is not a folder; expected a diffusers ONNX model folder (model_index.json, unet/, text_encoder/, vae_decoder/, tokenizer/, scheduler/)');
  }
  const indexPath = requireFile(dir, 'model_index.json', 'the pipeline index (diffusers/optimum export)');
  const index = readJson(indexPath, 'an object with "_class_name"');
  const pipelineClass = typeof index._class_name === 'string' ? index._class_name : '';
  if (!pipelineClass) throw new ModelFolderError(indexPath, 'has no "_class_name"; expected a diffusers pipeline index');
  if (/XL|Flux|StableDiffusion3|Kandinsky|Pixart/i.test(pipelineClass)) {
    throw new ModelFolderError(indexPath, `describes ${pipelineClass}; expected a Stable Diffusion 1.5 pipeline`);
  }
  const onnx = (sub: string) => requireFile(dir, `${sub}/model.onnx`, `the ${sub} ONNX graph`);
  const textEncoder = onnx('text_encoder');
  const unet = onnx('unet');
  const vaeDecoder = onnx('vae_decoder');
  const externalPath = join(dir, 'unet', 'model.onnx_data');
  const tokenizerDir = join(dir, 'tokenizer');
  requireFile(dir, 'tokenizer/vocab.json', 'the CLIP BPE vocabulary (token -> id JSON)');
  requireFile(dir, 'tokenizer/merges.txt', 'the CLIP BPE merges ("#version" line, then one pair per line)');
  const schedulerPath = requireFile(dir, 'scheduler/scheduler_config.json', 'the diffusers scheduler config');
  const schedulerConfig = parseSchedulerConfig(readJson(schedulerPath, 'a scheduler config object'), schedulerPath);

  const vaeConfig = optionalJson(join(dir, 'vae_decoder', 'config.json'));
  const scaling = vaeConfig?.scaling_factor;
  const unetConfig = optionalJson(join(dir, 'unet', 'config.json'));
  const blocks = Array.isArray(unetConfig?.block_out_channels) ? unetConfig.block_out_channels.length : 4;
  return {
    dir,
    pipelineClass,
    textEncoder,
    unet,
    unetExternalData: existsSync(externalPath) ? externalPath : null,
    vaeDecoder,
    tokenizerDir,
    schedulerConfig,
    vaeScalingFactor: typeof scaling === 'number' && scaling > 0 ? scaling : 0.18215,
    unetDownBlocks: blocks,
  };
}
