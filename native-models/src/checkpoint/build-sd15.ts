// Builds the three SD 1.5 ONNX graphs from a checkpoint into a model folder in the standard layout
// (model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/), cached under the
// checkpoint's sha256: a second call with the same file returns the folder without building.
// The folder is assembled under a temporary name and renamed into place, so an interrupted build
// never leaves a half-written model where the cache would find it.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildClipTextEncoder } from '../graph/clip-text-encoder.ts';
import type { OnnxGraph } from '../graph/graph-builder.ts';
import { deriveSd15Config, type ConfigOverrides, type Sd15Config } from '../graph/sd15-config.ts';
import { buildUnet } from '../graph/unet.ts';
import { buildVaeDecoder } from '../graph/vae-decoder.ts';
import { writeOnnxModel, type WriteStats } from '../graph/write-onnx.ts';
import { cachedSha256, knownSha256 } from './file-hash.ts';
import { loadCheckpoint } from './load-weights.ts';
import { writeModelFolderFiles } from './model-folder.ts';
import { randomSd15Weights, SD15_FULL_CONFIG } from './random-sd15.ts';
import { recogniseSd15 } from './recognise.ts';
import type { WeightTable } from './weights.ts';

/** Bumped whenever the emitted graphs change, so older cached builds are rebuilt. */
export const BUILDER_VERSION = 1;

export interface BuildSd15Options {
  /** A single-file .safetensors checkpoint, or a diffusers folder (unet/, vae/, text_encoder/). */
  checkpoint: string;
  /** Where built models are cached (one folder per checkpoint hash). */
  cacheDir: string;
  /** CLIP tokenizer folder (vocab.json, merges.txt, ...), copied into the model folder; a function is only asked when a build happens. */
  tokenizerDir: string | (() => string);
  /** Folder with text_encoder/config.json, unet/config.json, vae(_decoder)/config.json for non-standard widths. */
  configDir?: string;
  /** Reference float32 tensors inside the checkpoint instead of copying them (default true). */
  referenceWeights?: boolean;
  log?: (line: string) => void;
}

export interface BuildTimings {
  /** Wall time of hashing the checkpoint (in worker threads, overlapped with the build). */
  hashMs: number;
  /** Time the build then waited for the hash (0 when hashing finished first). */
  hashWaitMs?: number;
  readMs: number;
  graphMs: Record<string, number>;
  writeMs: Record<string, number>;
  totalMs: number;
}

export interface BuiltSd15 {
  dir: string;
  sha256: string;
  cached: boolean;
  config: Sd15Config;
  timings?: BuildTimings;
  stats?: Record<string, WriteStats>;
}

interface BuildRecord {
  builderVersion: number;
  source: string;
  sha256: string;
  layout: string;
  config: Sd15Config;
  timings: BuildTimings;
  stats: Record<string, WriteStats>;
  builtAt: string;
}

function readJson(path: string): Record<string, unknown> | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : undefined;
}

export function readConfigOverrides(dir: string | undefined): ConfigOverrides {
  if (!dir) return {};
  return {
    textEncoder: readJson(join(dir, 'text_encoder', 'config.json')),
    unet: readJson(join(dir, 'unet', 'config.json')),
    vae: readJson(join(dir, 'vae_decoder', 'config.json')) ?? readJson(join(dir, 'vae', 'config.json')),
  };
}

/** The standard export's graphs; the app rewrites them for speed when it loads them (onnx/graph-rewrites). */
export const COMPONENT_BUILDERS: Array<[folder: string, build: (w: WeightTable, c: Sd15Config) => OnnxGraph]> = [
  ['text_encoder', (w, c) => buildClipTextEncoder(w, c.textEncoder)],
  ['unet', (w, c) => buildUnet(w, c.unet)],
  ['vae_decoder', (w, c) => buildVaeDecoder(w, c.vae)],
];

/** Writes the three graphs and the folder files into `dir` (which must exist). */
export function writeSd15Folder(
  dir: string,
  weights: WeightTable,
  config: Sd15Config,
  opts: { tokenizerDir: string; referenceWeights: boolean; log: (l: string) => void },
): { graphMs: Record<string, number>; writeMs: Record<string, number>; stats: Record<string, WriteStats> } {
  const graphMs: Record<string, number> = {};
  const writeMs: Record<string, number> = {};
  const stats: Record<string, WriteStats> = {};
  for (const [folder, build] of COMPONENT_BUILDERS) {
    mkdirSync(join(dir, folder), { recursive: true });
    let t = performance.now();
    const graph = build(weights, config);
    graphMs[folder] = performance.now() - t;
    t = performance.now();
    stats[folder] = writeOnnxModel(graph, join(dir, folder), 'model.onnx', { referenceFiles: opts.referenceWeights });
    writeMs[folder] = performance.now() - t;
    const s = stats[folder];
    opts.log(`${folder}: ${graph.nodes.length} nodes, ${(s.referencedBytes / 1e6).toFixed(1)} MB referenced in place, ${(s.copiedBytes / 1e6).toFixed(1)} MB written, ${(graphMs[folder] + writeMs[folder]).toFixed(0)} ms`);
  }
  writeModelFolderFiles(dir, config, opts.tokenizerDir);
  return { graphMs, writeMs, stats };
}

export async function buildSd15FromCheckpoint(options: BuildSd15Options): Promise<BuiltSd15> {
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const checkpoint = loadCheckpoint(resolve(options.checkpoint));
  recogniseSd15(checkpoint.files, checkpoint.weights);
  const readMs = performance.now() - t0;

  const hashIndex = join(options.cacheDir, 'checkpoint-hashes.json');
  const known = checkpoint.files.map((f) => knownSha256(f.path, hashIndex));
  const joinHashes = (h: string[]) => (h.length === 1 ? h[0]! : h.join('+'));
  const dirFor = (sha256: string) => join(options.cacheDir, sha256.slice(0, 16));
  const cachedIn = (dir: string, sha256: string): BuiltSd15 | undefined => {
    const record = readJson(join(dir, 'build.json')) as BuildRecord | undefined;
    if (!record || record.builderVersion !== BUILDER_VERSION || record.sha256 !== sha256) return undefined;
    log(`using the model built from this checkpoint earlier: ${dir}`);
    return { dir, sha256, cached: true, config: record.config };
  };
  if (known.every((h) => h !== undefined)) {
    const sha256 = joinHashes(known as string[]);
    const cached = cachedIn(dirFor(sha256), sha256);
    if (cached) return cached;
  }

  // A file not seen before is hashed in worker threads while the graphs are built; the finished
  // folder is then filed under the hash (or dropped, if that hash turns out to be built already).
  const hashStart = performance.now();
  let hashMs = 0;
  const hashing = Promise.all(checkpoint.files.map((f, i) => known[i] ?? cachedSha256(f.path, hashIndex))).then((h) => {
    hashMs = performance.now() - hashStart;
    return joinHashes(h);
  });
  hashing.catch(() => {}); // awaited below; avoids an unhandled rejection while the build runs

  mkdirSync(options.cacheDir, { recursive: true });
  const tmp = join(options.cacheDir, `.building-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    const config = deriveSd15Config(checkpoint.weights, readConfigOverrides(options.configDir));
    log(`building SD 1.5 ONNX graphs from ${options.checkpoint} (${checkpoint.layout})`);
    const { graphMs, writeMs, stats } = writeSd15Folder(tmp, checkpoint.weights, config, {
      tokenizerDir: typeof options.tokenizerDir === 'string' ? options.tokenizerDir : options.tokenizerDir(),
      referenceWeights: options.referenceWeights ?? true,
      log,
    });
    const waitStart = performance.now();
    const sha256 = await hashing;
    const hashWaitMs = performance.now() - waitStart;
    const dir = dirFor(sha256);
    const cached = cachedIn(dir, sha256);
    if (cached) {
      rmSync(tmp, { recursive: true, force: true });
      return cached;
    }
    const timings: BuildTimings = { hashMs, hashWaitMs, readMs, graphMs, writeMs, totalMs: performance.now() - t0 };
    const record: BuildRecord = { builderVersion: BUILDER_VERSION, source: resolve(options.checkpoint), sha256, layout: checkpoint.layout, config, timings, stats, builtAt: new Date().toISOString() };
    writeFileSync(join(tmp, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    log(`sha256 ${sha256.slice(0, 10)}: ${dir}`);
    return { dir, sha256, cached: false, config, timings, stats };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Fills a temporary folder beside `dir`, records build.json, then renames it into place. */
function assembleModelFolder(dir: string, fill: (tmp: string) => BuildRecord): BuiltSd15 {
  const tmp = `${dir}.building-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const record = fill(tmp);
    writeFileSync(join(tmp, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return { dir, sha256: record.sha256, cached: false, config: record.config, timings: record.timings, stats: record.stats };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface BuildRandomSd15Options {
  seed: number;
  /** Parent folder; the model goes to `<outDir>/random-sd15-seed<seed>`. */
  outDir: string;
  tokenizerDir: string;
  config?: Sd15Config;
  log?: (line: string) => void;
}

/**
 * A full-size SD 1.5 with seeded random weights (for benchmarks: real shapes and costs, no
 * download). Rebuilt only when missing; building it is itself a measurement of the builder.
 */
export function buildRandomSd15(options: BuildRandomSd15Options): BuiltSd15 {
  const log = options.log ?? (() => {});
  const config = options.config ?? SD15_FULL_CONFIG;
  const dir = join(options.outDir, `random-sd15-seed${options.seed}`);
  const sha256 = `random-seed-${options.seed}`;
  const record = readJson(join(dir, 'build.json')) as BuildRecord | undefined;
  if (record && record.builderVersion === BUILDER_VERSION && JSON.stringify(record.config) === JSON.stringify(config)) {
    log(`using ${dir}`);
    return { dir, sha256, cached: true, config, timings: record.timings, stats: record.stats };
  }
  const t0 = performance.now();
  return assembleModelFolder(dir, (tmp) => {
    const { graphMs, writeMs, stats } = writeSd15Folder(tmp, randomSd15Weights(options.seed, config), config, {
      tokenizerDir: options.tokenizerDir,
      referenceWeights: false,
      log,
    });
    const timings: BuildTimings = { hashMs: 0, readMs: 0, graphMs, writeMs, totalMs: performance.now() - t0 };
    return { builderVersion: BUILDER_VERSION, source: sha256, sha256, layout: 'random', config, timings, stats, builtAt: new Date().toISOString() };
  });
}
