// npm run bench -- --model DIR|FILE.safetensors | --random-sd15 [--seed N] [--tokenizer DIR] [--steps 1,2,4] [--guidance 1,1.5] [--size S | --width W --height H] [--batch N]
//   [--runs N] [--warmup N] [--provider P] [--threads N] [--lora FILE [--lora-scale S]] [--json]
//   [--compare-plain] [--cfg-batching auto|batched|split] [--decode full|preview-then-full|preview]
//   [--vae-convolutions auto|direct|fast] [--unet-attention auto|exported|fused] [--unet-layers auto|exported|fast]
//   [--precision auto|float32|float16] [--graph-cache DIR]
//   [--arena on|off] [--mem-pattern on|off] [--prepacking on|off] [--ort-config KEY=VALUE ...] [--roofline]
// Prints per-stage times, end-to-end time per image and the overhead ratio for each setting;
// --json adds one final line with every figure. Model sources are pluggable (pipelineFor).
// --compare-plain loads one model twice in one process, in the plain torch-style form and in our
// fastest form (the app's load-time rewrites; with --random-sd15 also a seeded TAESD preview
// decoder), and runs them alternately (see forms.ts). --roofline then profiles one more generation
// of each form: the arithmetic each session did and its rate beside onnxruntime's best here (roofline.ts).
import { cpus, loadavg, totalmem } from 'node:os';
import { OptimizedGraphCache } from '../src/onnx/graph-cache.ts';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, listOption, loraOption, numberOption, oneLine, providerOption, UsageError } from '../cli/args.ts';
import { buildRandomSd15 } from '../src/checkpoint/build-sd15.ts';
import { defaultModelsDir, resolveModelSource } from '../src/checkpoint/model-source.ts';
import { resolveTokenizerDir } from '../src/checkpoint/tokenizer-source.ts';
import { ensureRandomTaesd } from '../src/checkpoint/random-taesd.ts';
import { benchLora, formatLoraFigures } from './lora.ts';
import { compareForms, formatComparison, formFigures, rssMb, type BenchForm } from './forms.ts';
import { ORT_DEFAULT_TUNING, PREVIEW_DECODER_DIR, StableDiffusionPipeline, type CfgBatching, type PipelineOptions } from '../src/pipeline/pipeline.ts';
import { DECODE_MODES, type DecodeMode } from '../src/pipeline/request.ts';
import type { SessionTuning } from '../src/onnx/session.ts';
import type { UnetForm } from '../src/onnx/graph-rewrites/unet-graph.ts';
import { existsSync } from 'node:fs';
import { formatRoofline, profileGeneration, referenceConvRate, type SessionRoofline } from './roofline.ts';
import { pipelineSessions, shortLabel } from './sessions.ts';
import { benchRequest, formatFigures, measure, type BenchFigures, type BenchSetting } from './measure.ts';

const OPTIONS = {
  model: { type: 'string' },
  'random-sd15': { type: 'boolean' },
  seed: { type: 'string' },
  tokenizer: { type: 'string' },
  config: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  size: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  batch: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  lora: { type: 'string' },
  'lora-scale': { type: 'string' },
  prompt: { type: 'string' },
  json: { type: 'boolean' },
  'compare-plain': { type: 'boolean' },
  'vae-convolutions': { type: 'string' },
  'unet-attention': { type: 'string' },
  'unet-layers': { type: 'string' },
  precision: { type: 'string' },
  'graph-cache': { type: 'string' },
  'cfg-batching': { type: 'string' },
  decode: { type: 'string' },
  arena: { type: 'string' },
  'mem-pattern': { type: 'string' },
  prepacking: { type: 'string' },
  'ort-config': { type: 'string', multiple: true },
  roofline: { type: 'boolean' },
} as const;

/** Our fastest form's session settings: the pipeline's defaults (DEFAULT_TUNING: arena, no memory pattern). */
export const FAST_TUNING: SessionTuning | undefined = undefined;

function choice<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got ${raw})`);
  return raw as T;
}

function onOff(name: string, raw: string | undefined): boolean | undefined {
  const v = choice(name, raw, ['on', 'off'] as const);
  return v === undefined ? undefined : v === 'on';
}

function tuningOf(args: Args): SessionTuning | undefined {
  const t: SessionTuning = {};
  const arena = onOff('arena', args.arena);
  const pattern = onOff('mem-pattern', args['mem-pattern']);
  const prepacking = onOff('prepacking', args.prepacking);
  if (arena !== undefined) t.cpuMemArena = arena;
  if (pattern !== undefined) t.memPattern = pattern;
  if (prepacking !== undefined) t.prepacking = prepacking;
  for (const entry of args['ort-config'] ?? []) {
    const [key, value] = entry.split('=');
    if (!key || value === undefined) throw new UsageError(`--ort-config takes KEY=VALUE (an onnxruntime session config entry), got ${entry}`);
    (t.configEntries ??= {})[key] = value;
  }
  return Object.keys(t).length > 0 ? t : undefined;
}

function randomSd15Dir(args: Args): string {
  const modelsDir = defaultModelsDir();
  const built = buildRandomSd15({
    seed: intOption('seed', args.seed, 0, 2 ** 31) ?? 0,
    outDir: join(modelsDir, 'built'),
    tokenizerDir: resolveTokenizerDir({ tokenizer: args.tokenizer, checkpoint: modelsDir, modelsDir }),
    log: (l) => console.log(l),
  });
  console.log(`random SD 1.5 ${built.cached ? 'reused' : 'built'}: ${built.dir} (build ${built.timings ? `${(built.timings.totalMs / 1000).toFixed(1)} s` : 'n/a'})`);
  return built.dir;
}

/** --compare-plain: the plain form and the fastest form of the same weights. */
async function formsFor(args: Args, provider: PipelineOptions['provider'], threads: number | undefined): Promise<[BenchForm, BenchForm]> {
  const base = { provider, ...(threads ? { intraOpThreads: threads } : {}) };
  // One model for both forms: the fast one fuses the exported attention when it loads, as the app does.
  let dir: string;
  if (args['random-sd15']) {
    dir = randomSd15Dir(args);
    ensureRandomTaesd(dir, intOption('seed', args.seed, 0, 2 ** 31) ?? 0);
  } else if (args.model) {
    dir = await resolveModelSource(args.model, { tokenizer: args.tokenizer, config: args.config, log: (l) => console.log(l) });
  } else {
    throw new UsageError('--compare-plain needs --model DIR|FILE or --random-sd15');
  }
  const hasPreview = existsSync(join(dir, PREVIEW_DECODER_DIR, 'model.onnx'));
  const fastTuning = tuningOf(args) ?? FAST_TUNING;
  return [
    { name: 'plain', dir, options: { ...base, cfgBatching: 'batched', vaeConvolutions: 'direct', unetAttention: 'exported', unetLayers: 'exported', precision: 'float32', tuning: ORT_DEFAULT_TUNING }, decode: 'full' },
    {
      name: 'fast',
      dir,
      options: {
        ...base,
        cfgBatching: choice<CfgBatching>('cfg-batching', args['cfg-batching'], ['auto', 'batched', 'split']) ?? 'auto',
        vaeConvolutions: vaeConvolutionsOf(args) ?? 'auto',
        unetAttention: unetAttentionOf(args) ?? 'auto',
        unetLayers: unetLayersOf(args) ?? 'auto',
        precision: precisionOf(args) ?? 'auto',
        ...(fastTuning ? { tuning: fastTuning } : {}),
      },
      decode: choice<DecodeMode>('decode', args.decode, DECODE_MODES) ?? (hasPreview ? 'preview-then-full' : 'full'),
    },
  ];
}

function unetAttentionOf(args: Args): PipelineOptions['unetAttention'] {
  return choice('unet-attention', args['unet-attention'], ['auto', 'exported', 'fused'] as const);
}

function unetLayersOf(args: Args): PipelineOptions['unetLayers'] {
  return choice('unet-layers', args['unet-layers'], ['auto', 'exported', 'fast'] as const);
}

/** ' (graph cache: unet (prefix) hit, …)' when sessions went through the optimised-graph cache. */
function graphCacheLine(pipeline: StableDiffusionPipeline): string {
  const outcomes = pipelineSessions(pipeline).flatMap((s) => (s.graphCache ? [`${shortLabel(s.label)} ${s.graphCache}`] : []));
  return outcomes.length > 0 ? ` (graph cache: ${outcomes.join(', ')})` : '';
}

function precisionOf(args: Args): PipelineOptions['precision'] {
  return choice('precision', args.precision, ['auto', 'float32', 'float16'] as const);
}

function vaeConvolutionsOf(args: Args): PipelineOptions['vaeConvolutions'] {
  return choice('vae-convolutions', args['vae-convolutions'], ['auto', 'direct', 'fast'] as const);
}

function describeUnetForm(form: UnetForm | undefined): string {
  if (!form) return 'as given';
  return `attention ${form.attention}, layers ${form.layers}, ${form.precision}${form.sharedPrefix ? ', text-free prefix shared' : ''}`;
}

type Args = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** Where the benchmarked model comes from; new sources (e.g. a generated full-size model) go here. */
async function pipelineFor(args: Args, sessions: PipelineOptions): Promise<{ pipeline: StableDiffusionPipeline; source: string; dir: string }> {
  if (args['random-sd15']) {
    // A full-size SD 1.5 with seeded random weights, made by the graph builder (built once, then reused).
    const dir = randomSd15Dir(args);
    if (args.decode && args.decode !== 'full') ensureRandomTaesd(dir, intOption('seed', args.seed, 0, 2 ** 31) ?? 0);
    return { pipeline: await StableDiffusionPipeline.fromFolder(dir, sessions), source: dir, dir };
  }
  if (args.model) {
    const dir = await resolveModelSource(args.model, { tokenizer: args.tokenizer, config: args.config, log: (l) => console.log(l) });
    return { pipeline: await StableDiffusionPipeline.fromFolder(dir, sessions), source: args.model, dir };
  }
  throw new UsageError('--model DIR is required (a diffusers ONNX model folder)');
}

async function main(argv: string[]): Promise<void> {
  let args: Args;
  try {
    args = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(oneLine(e));
  }
  const stepsList = listOption('steps', args.steps, (n, s) => intOption(n, s, 1, 8)!) ?? [1, 2, 4];
  const guidanceList = listOption('guidance', args.guidance, (n, s) => numberOption(n, s, 0, 30)!) ?? [1, 1.5];
  const size = intOption('size', args.size, 64, 2048);
  const width = intOption('width', args.width, 64, 2048) ?? size ?? 512;
  const height = intOption('height', args.height, 64, 2048) ?? size ?? 512;
  const batchSize = intOption('batch', args.batch, 1, 16) ?? 1;
  const runs = intOption('runs', args.runs, 1, 1000) ?? 5;
  const warmup = intOption('warmup', args.warmup, 0, 100) ?? 1;
  const threads = intOption('threads', args.threads, 1, 256);
  const providerChoice = providerOption(args.provider);
  const decode = choice<DecodeMode>('decode', args.decode, DECODE_MODES) ?? 'full';
  const cfgBatching = choice<CfgBatching>('cfg-batching', args['cfg-batching'], ['auto', 'batched', 'split']);
  const tuning = tuningOf(args);
  const sessions: PipelineOptions = {
    provider: providerChoice,
    ...(threads ? { intraOpThreads: threads } : {}),
    ...(cfgBatching ? { cfgBatching } : {}),
    ...(vaeConvolutionsOf(args) ? { vaeConvolutions: vaeConvolutionsOf(args)! } : {}),
    ...(unetAttentionOf(args) ? { unetAttention: unetAttentionOf(args)! } : {}),
    ...(unetLayersOf(args) ? { unetLayers: unetLayersOf(args)! } : {}),
    ...(precisionOf(args) ? { precision: precisionOf(args)! } : {}),
    // Off unless named: the first load then stores each graph (slower), later runs load from it.
    ...(args['graph-cache'] ? { graphCache: new OptimizedGraphCache(args['graph-cache']) } : {}),
    ...(tuning ? { tuning } : {}),
  };
  const lora = loraOption(args.lora, args['lora-scale']);
  if (args.roofline && (stepsList.length !== 1 || guidanceList.length !== 1)) throw new UsageError('--roofline profiles one setting: give one --steps and one --guidance value');
  console.log(`machine: ${cpus().length} logical CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (args['compare-plain']) {
    const forms = await formsFor(args, providerChoice, threads);
    const settings = stepsList.flatMap((steps) => guidanceList.map((guidance) => ({ steps, guidance, width, height, batchSize })));
    const comparison = await compareForms(forms, settings, { runs, warmup, log: (l) => console.log(l) });
    console.log(formatComparison(comparison));
    console.log(`peak resident memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const roofline = args.roofline ? await printRoofline(forms, settings[0]!, args.prompt, threads) : undefined;
    if (args.json) console.log(JSON.stringify({ machine: machineLine(), forms: forms.map((f) => ({ name: f.name, dir: f.dir, decode: f.decode, options: f.options })), comparison, ...(roofline ? { roofline } : {}) }));
    return;
  }

  const rssBefore = rssMb();
  const loadStart = performance.now();
  const { pipeline, source, dir: modelDir } = await pipelineFor(args, sessions);
  const loadMs = performance.now() - loadStart;
  const provider = pipeline.components.unet.provider;
  let loraBench: Awaited<ReturnType<typeof benchLora>> | undefined;
  let json: object = {};
  try {
    console.log(`model ${source} | provider ${provider.used}${provider.fallbackReason ? ` (${provider.fallbackReason})` : ''} | VAE convolutions ${pipeline.components.vaeConvolutions ?? 'direct'}, ${pipeline.components.vaePrecision ?? 'float32'} | UNet ${describeUnetForm(pipeline.components.unetForm)} | sessions loaded in ${loadMs.toFixed(0)} ms${graphCacheLine(pipeline)}`);
    if (lora) {
      loraBench = await benchLora(pipeline, modelDir, lora, sessions);
      console.log(formatLoraFigures(loraBench.figures));
    }
    const figures: BenchFigures[] = [];
    for (const steps of stepsList) {
      for (const guidance of guidanceList) {
        const setting: BenchSetting = { steps, guidance, width, height, batchSize, decode };
        const f = await measure(pipeline, setting, { runs, warmup, ...(args.prompt ? { prompt: args.prompt } : {}) });
        figures.push(f);
        console.log(formatFigures(f));
      }
    }
    console.log(`peak resident memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const forms = figures.map((f) => formFigures('single', provider.used, f, loadMs, rssMb() - rssBefore, decode));
    json = { machine: machineLine(), model: source, provider, loadMs, figures, forms, ...(loraBench ? { lora: loraBench.figures } : {}) };
  } finally {
    await pipeline.release();
    await loraBench?.loras.release();
  }
  const setting = { steps: stepsList[0]!, guidance: guidanceList[0]!, width, height, batchSize };
  const roofline = args.roofline ? await printRoofline([{ name: 'this form', dir: modelDir, options: sessions, decode }], setting, args.prompt, threads) : undefined;
  if (args.json) console.log(JSON.stringify({ ...json, ...(roofline ? { roofline } : {}) }));
}

/** --roofline, after the timed runs (their pipelines released): one profiled generation per form. */
async function printRoofline(forms: readonly BenchForm[], setting: BenchSetting, prompt: string | undefined, threads: number | undefined) {
  const reference = await referenceConvRate(threads);
  const out: Record<string, SessionRoofline[]> = {};
  for (const form of forms) {
    const sessions = await profileGeneration(form.dir, form.options, () => benchRequest({ ...setting, decode: form.decode }, prompt ? { prompt } : {}));
    console.log(formatRoofline(`roofline, ${form.name}`, sessions, reference));
    out[form.name] = sessions;
  }
  return { reference, forms: out };
}

function machineLine(): string {
  return `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${loadavg()[0]!.toFixed(2)}`;
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`error: ${oneLine(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
