// npm run generate -- --model DIR|FILE.safetensors [--tokenizer DIR] [--config DIR] --prompt TEXT [--negative TEXT] [--seed N] [--steps N]
//   [--guidance G] [--batch N] [--shared-noise] [--width W --height H] [--provider P]
//   [--threads N] [--lora FILE [--lora-scale S]] [--dump DIR] [--json] [--preview FILE.png [--preview-decoder FILE.onnx]] --out FILE.png
// A public contract: other tools script it. Bad input exits non-zero with one line on stderr.
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveModelSource } from '../src/checkpoint/model-source.ts';
import { loadModelFolder } from '../src/model/model-folder.ts';
import { encodePng, rgbPixels } from '../src/image/png.ts';
import { PREVIEW_DECODER_DIR, StableDiffusionPipeline, VAE_SCALE } from '../src/pipeline/pipeline.ts';
import { resolveRequest, type GenerateRequest } from '../src/pipeline/request.ts';
import type { GenerationResult } from '../src/pipeline/pipeline.ts';
import { describeLoraReport, LoraUnets } from '../src/lora/lora-pipeline.ts';
import { intOption, loraOption, numberOption, oneLine, providerOption, seedOption, UsageError } from './args.ts';

const USAGE =
  'usage: npm run generate -- --model DIR|FILE.safetensors [--tokenizer DIR] [--config DIR] --prompt TEXT [--negative TEXT] [--seed N] [--steps 1..8] [--guidance G] ' +
  '[--batch N] [--shared-noise] [--width W --height H] [--provider auto|cpu|cuda|dml|coreml|webgpu] [--threads N] ' +
  '[--lora FILE.safetensors [--lora-scale S]] [--dump DIR] [--json] [--preview FILE.png [--preview-decoder FILE.onnx]] --out FILE.png';

const OPTIONS = {
  model: { type: 'string' },
  tokenizer: { type: 'string' },
  config: { type: 'string' },
  prompt: { type: 'string' },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  batch: { type: 'string' },
  'shared-noise': { type: 'boolean' },
  width: { type: 'string' },
  height: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  lora: { type: 'string' },
  'lora-scale': { type: 'string' },
  dump: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  /** Also write TAESD's quick preview (decoded before the VAE) to this file. */
  preview: { type: 'string' },
  /** TAESD's decoder graph; default <model>/taesd_decoder/model.onnx. */
  'preview-decoder': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** FILE.png for one image; FILE-0.png … FILE-(N-1).png for a batch. */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const ext = extname(out);
  const stem = out.slice(0, out.length - ext.length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i}${ext}`);
}

function checkWritableDir(dir: string, what: string): void {
  if (!existsSync(dir)) throw new UsageError(`${what} folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${what} ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${what} folder ${dir} is not writable`);
  }
}

/** Writes next to the target and renames, so a crash never leaves a half-written PNG. */
function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true }); // e.g. a full disk: leave nothing half-written behind
    throw e;
  }
}

function writeDump(dir: string, result: GenerationResult): void {
  mkdirSync(dir, { recursive: true });
  const { tokens, latents } = result;
  writeFileSync(join(dir, 'tokens.json'), `${JSON.stringify({ cond: tokens.cond, uncond: tokens.uncond, dropped: tokens.dropped })}\n`);
  const asBytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // little-endian hosts
  writeFileSync(join(dir, 'initial_latents.bin'), asBytes(latents.initial));
  writeFileSync(join(dir, 'final_latents.bin'), asBytes(latents.final));
  const entry = (file: string) => ({ file, dtype: 'float32', byte_order: 'little', shape: latents.shape });
  writeFileSync(
    join(dir, 'latents.json'),
    `${JSON.stringify({ initial_latents: entry('initial_latents.bin'), final_latents: entry('final_latents.bin') }, null, 1)}\n`,
  );
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  const a = parsed.values;
  if (a.help) {
    console.log(USAGE);
    return;
  }
  if (!a.model) throw new UsageError('--model DIR is required (a diffusers ONNX model folder)');
  if (a.prompt === undefined) throw new UsageError('--prompt TEXT is required');
  if (!a.out) throw new UsageError('--out FILE.png is required');
  if (extname(a.out).toLowerCase() !== '.png') throw new UsageError(`--out must end in .png (got "${a.out}")`);
  const out = resolve(a.out);
  checkWritableDir(dirname(out), 'output');
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder`);
  const previewOut = a.preview ? resolve(a.preview) : null;
  if (previewOut) {
    if (extname(previewOut).toLowerCase() !== '.png') throw new UsageError(`--preview must end in .png (got "${a.preview}")`);
    checkWritableDir(dirname(previewOut), 'preview');
  } else if (a['preview-decoder']) {
    throw new UsageError('--preview-decoder needs --preview FILE.png');
  }
  if (a.dump) {
    const dump = resolve(a.dump);
    if (existsSync(dump)) checkWritableDir(dump, '--dump');
    else checkWritableDir(dirname(dump), '--dump parent');
  }

  const request: GenerateRequest = {
    prompt: a.prompt,
    negativePrompt: a.negative,
    seed: seedOption(a.seed),
    steps: intOption('steps', a.steps, 1, 8),
    guidance: numberOption('guidance', a.guidance, 0, 30),
    batchSize: intOption('batch', a.batch, 1, 16),
    width: intOption('width', a.width, 1, 2048),
    height: intOption('height', a.height, 1, 2048),
    sharedNoise: a['shared-noise'] ?? false,
  };
  const provider = providerOption(a.provider);
  const threads = intOption('threads', a.threads, 1, 256);
  const lora = loraOption(a.lora, a['lora-scale']);

  // A single-file .safetensors checkpoint is built into ONNX graphs on first use (cached by hash).
  const modelDir = await resolveModelSource(a.model, { tokenizer: a.tokenizer, config: a.config, log: (l) => console.error(l) });
  const folder = loadModelFolder(modelDir);
  // Fail on bad sizes and steps before spending seconds on session creation.
  let resolved;
  try {
    resolved = resolveRequest(request, VAE_SCALE * 2 ** (folder.unetDownBlocks - 1));
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  request.seed = resolved.seed;

  const previewDecoder = previewOut ? resolve(a['preview-decoder'] ?? join(modelDir, PREVIEW_DECODER_DIR, 'model.onnx')) : null;
  if (previewDecoder && !existsSync(previewDecoder)) {
    throw new UsageError(
      `--preview needs TAESD's decoder graph and ${previewDecoder} does not exist: give --preview-decoder FILE.onnx (npm run models -- pull taesd builds <models>/taesd/taesd_decoder/model.onnx)`,
    );
  }

  const loadStart = performance.now();
  const sessionOptions = { provider, ...(threads ? { intraOpThreads: threads } : {}) };
  const pipeline = await StableDiffusionPipeline.fromFolder(folder, { ...sessionOptions, ...(previewDecoder ? { replace: { previewDecoder } } : {}) });
  // A one-shot run keeps nothing for later: budget 0 releases the base UNet once the patched one is open.
  const loras = new LoraUnets(sessionOptions, 0);
  let loraReport;
  try {
    if (lora) loraReport = (await loras.apply(pipeline, folder, lora)).report;
  } catch (e) {
    await pipeline.release();
    await loras.release();
    throw e;
  }
  const loadMs = performance.now() - loadStart;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: GenerationResult;
  const previewPaths: string[] = [];
  try {
    result = await pipeline.generate({
      ...request,
      signal: controller.signal,
      ...(previewOut
        ? {
            decode: 'preview-then-full' as const,
            // Written as soon as it exists: a script watching the file sees it before the VAE has run.
            onPreview: (preview) => {
              previewPaths.push(...outputPaths(previewOut, preview.rgb.length));
              preview.rgb.forEach((rgb, i) => writeAtomically(previewPaths[i]!, encodePng(rgbPixels(rgb, preview.width, preview.height))));
            },
          }
        : {}),
    });
  } finally {
    await pipeline.release();
    await loras.release();
  }

  const paths = outputPaths(out, result.images.length);
  result.images.forEach((image, i) => writeAtomically(paths[i]!, image.png!));
  if (a.dump) writeDump(resolve(a.dump), result);

  const t = result.timings;
  const p = result.provider;
  if (a.json) {
    console.log(
      JSON.stringify({
        seed: result.request.seed.toString(),
        images: result.images.map((image, i) => ({ file: paths[i], seed: image.seed.toString(), width: image.width, height: image.height })),
        ...(previewOut ? { previews: previewPaths } : {}),
        provider: p,
        tokens: { count: result.tokens.cond.length, dropped: result.tokens.dropped, negativeDropped: result.tokens.negativeDropped },
        timings: { loadMs, ...t, overhead: t.totalMs / t.ortMs },
        ...(loraReport ? { lora: loraReport } : {}),
      }),
    );
    return;
  }
  console.log(`seed ${result.request.seed}${result.images.length > 1 ? ` (images: ${result.images.map((i) => i.seed).join(', ')})` : ''}`);
  console.log(`provider ${p.used} (requested ${p.requested})${p.fallbackReason ? `: ${p.fallbackReason}` : ''}`);
  if (lora && loraReport) console.log(describeLoraReport(lora.path, loraReport));
  if (a.negative && result.request.guidance <= 1) console.log('note: --negative has no effect with guidance <= 1 (no unconditional pass)');
  if (result.tokens.dropped > 0) console.log(`prompt truncated: ${result.tokens.dropped} tokens past the 77-token limit were dropped`);
  if (result.tokens.negativeDropped > 0) console.log(`negative prompt truncated: ${result.tokens.negativeDropped} tokens dropped`);
  console.log(
    `timings load ${ms(loadMs)} | text ${ms(t.textMs)} | noise ${ms(t.noiseMs)} | unet ${t.unetMs.map(ms).join(' + ')} | scheduler ${ms(t.schedulerMs)} | ` +
      `vae ${ms(t.vaeMs)} | png ${ms(t.pngMs)} | total ${ms(t.totalMs)} | inside onnxruntime ${ms(t.ortMs)} (overhead ${(t.totalMs / t.ortMs).toFixed(3)}x)`,
  );
  for (const path of previewPaths) console.log(`wrote preview ${path} (${ms(t.firstPictureMs)} after the start, preview decoder ${ms(t.previewMs)})`);
  for (const path of paths) console.log(`wrote ${path}`);
  if (a.dump) console.log(`dumped tokens and latents to ${resolve(a.dump)}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const aborted = error instanceof Error && error.name === 'AbortError';
    // Exactly one line on stderr, so scripts can show it as is (--help prints the usage).
    console.error(`error: ${aborted ? 'cancelled' : oneLine(error)}`);
    process.exit(error instanceof UsageError ? 2 : aborted ? 130 : 1);
  },
);
