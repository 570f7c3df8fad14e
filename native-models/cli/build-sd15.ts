// Builds SD 1.5 ONNX model folders with the TypeScript graph builder.
//   npm run build-sd15 -- FILE.safetensors [--tokenizer DIR] [--config DIR] [--cache DIR]
//   npm run build-sd15 -- --random-sd15 [--seed N] [--out DIR] [--tokenizer DIR]
//   npm run build-sd15 -- --write-random-checkpoint DIR [--dtype fp16|fp32|bf16] [--seed N]
// Prints the model folder and the build's timings (JSON on the last line).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildRandomSd15, buildSd15FromCheckpoint } from '../src/checkpoint/build-sd15.ts';
import { defaultModelsDir } from '../src/checkpoint/model-source.ts';
import { resolveTokenizerDir } from '../src/checkpoint/tokenizer-source.ts';
import { writeRandomDiffusersCheckpoint } from '../src/checkpoint/write-random-checkpoint.ts';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tokenizer: { type: 'string' },
      config: { type: 'string' },
      cache: { type: 'string' },
      out: { type: 'string' },
      'random-sd15': { type: 'boolean', default: false },
      'write-random-checkpoint': { type: 'string' },
      dtype: { type: 'string', default: 'fp16' },
      seed: { type: 'string', default: '0' },
    },
  });
  const log = (l: string) => console.log(l);
  const seed = Number(values.seed);
  const modelsDir = defaultModelsDir();

  if (values['write-random-checkpoint']) {
    const t = performance.now();
    writeRandomDiffusersCheckpoint(values['write-random-checkpoint'], seed, values.dtype === 'fp32' ? 'F32' : values.dtype === 'bf16' ? 'BF16' : 'F16');
    console.log(JSON.stringify({ written: values['write-random-checkpoint'], ms: Math.round(performance.now() - t) }));
    return;
  }
  if (values['random-sd15']) {
    const tokenizerDir = resolveTokenizerDir({ tokenizer: values.tokenizer, checkpoint: modelsDir, modelsDir });
    const built = buildRandomSd15({ seed, outDir: values.out ?? join(modelsDir, 'built'), tokenizerDir, log });
    console.log(JSON.stringify({ dir: built.dir, cached: built.cached, timings: built.timings }));
    return;
  }
  const checkpoint = positionals[0];
  if (!checkpoint) throw new Error('give a checkpoint: npm run build-sd15 -- FILE.safetensors [--tokenizer DIR]');
  const built = await buildSd15FromCheckpoint({
    checkpoint,
    cacheDir: values.cache ?? join(modelsDir, 'built'),
    tokenizerDir: () => resolveTokenizerDir({ tokenizer: values.tokenizer, checkpoint, modelsDir }),
    configDir: values.config,
    log,
  });
  console.log(JSON.stringify({ dir: built.dir, cached: built.cached, sha256: built.sha256, timings: built.timings }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
