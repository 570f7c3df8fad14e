// npm run bench -- --model DIR|FILE.safetensors | --random-sd15 [--seed N] [--tokenizer DIR] [--steps 1,2,4] [--guidance 1,1.5] [--width W --height H] [--batch N]
//   [--runs N] [--warmup N] [--provider P] [--threads N] [--lora FILE [--lora-scale S]] [--json]
// Prints per-stage times, end-to-end time per image and the overhead ratio for each setting;
// --json adds one final line with every figure. Model sources are pluggable (pipelineFor).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, listOption, loraOption, numberOption, oneLine, providerOption, UsageError } from '../cli/args.ts';
import { buildRandomSd15 } from '../src/checkpoint/build-sd15.ts';
import { defaultModelsDir, resolveModelSource } from '../src/checkpoint/model-source.ts';
import { resolveTokenizerDir } from '../src/checkpoint/tokenizer-source.ts';
import { benchLora, formatLoraFigures } from './lora.ts';
import { StableDiffusionPipeline } from '../src/pipeline/pipeline.ts';
import type { SessionOptions } from '../src/onnx/session.ts';
import { formatFigures, measure, type BenchFigures, type BenchSetting } from './measure.ts';

const OPTIONS = {
  model: { type: 'string' },
  'random-sd15': { type: 'boolean' },
  seed: { type: 'string' },
  tokenizer: { type: 'string' },
  config: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
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
} as const;

type Args = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** Where the benchmarked model comes from; new sources (e.g. a generated full-size model) go here. */
async function pipelineFor(args: Args, sessions: SessionOptions): Promise<{ pipeline: StableDiffusionPipeline; source: string; dir: string }> {
  if (args['random-sd15']) {
    // A full-size SD 1.5 with seeded random weights, made by the graph builder (built once, then reused).
    const modelsDir = defaultModelsDir();
    const built = buildRandomSd15({
      seed: intOption('seed', args.seed, 0, 2 ** 31) ?? 0,
      outDir: join(modelsDir, 'built'),
      tokenizerDir: resolveTokenizerDir({ tokenizer: args.tokenizer, checkpoint: modelsDir, modelsDir }),
    });
    console.log(`random SD 1.5 ${built.cached ? 'reused' : 'built'}: ${built.dir} (build ${built.timings ? `${(built.timings.totalMs / 1000).toFixed(1)} s` : 'n/a'})`);
    return { pipeline: await StableDiffusionPipeline.fromFolder(built.dir, sessions), source: built.dir, dir: built.dir };
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
  const width = intOption('width', args.width, 64, 2048) ?? 512;
  const height = intOption('height', args.height, 64, 2048) ?? 512;
  const batchSize = intOption('batch', args.batch, 1, 16) ?? 1;
  const runs = intOption('runs', args.runs, 1, 1000) ?? 5;
  const warmup = intOption('warmup', args.warmup, 0, 100) ?? 1;
  const threads = intOption('threads', args.threads, 1, 256);
  const sessions: SessionOptions = { provider: providerOption(args.provider), ...(threads ? { intraOpThreads: threads } : {}) };
  const lora = loraOption(args.lora, args['lora-scale']);

  const loadStart = performance.now();
  const { pipeline, source, dir: modelDir } = await pipelineFor(args, sessions);
  const loadMs = performance.now() - loadStart;
  const provider = pipeline.components.unet.provider;
  let loraBench: Awaited<ReturnType<typeof benchLora>> | undefined;
  try {
    console.log(`model ${source} | provider ${provider.used}${provider.fallbackReason ? ` (${provider.fallbackReason})` : ''} | sessions loaded in ${loadMs.toFixed(0)} ms`);
    if (lora) {
      loraBench = await benchLora(pipeline, modelDir, lora, sessions);
      console.log(formatLoraFigures(loraBench.figures));
    }
    const figures: BenchFigures[] = [];
    for (const steps of stepsList) {
      for (const guidance of guidanceList) {
        const setting: BenchSetting = { steps, guidance, width, height, batchSize };
        const f = await measure(pipeline, setting, { runs, warmup, ...(args.prompt ? { prompt: args.prompt } : {}) });
        figures.push(f);
        console.log(formatFigures(f));
      }
    }
    if (args.json) console.log(JSON.stringify({ model: source, provider, loadMs, figures, ...(loraBench ? { lora: loraBench.figures } : {}) }));
  } finally {
    await pipeline.release();
    await loraBench?.loras.release();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`error: ${oneLine(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
