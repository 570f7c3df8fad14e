// A TAESD preview decoder with seeded random weights beside a built model (benchmarks and tests:
// TAESD's real shapes and cost, no download). A few MB; written once, then reused.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildTaesdDecoder, randomTaesdWeights } from '../graph/taesd-decoder.ts';
import { writeOnnxModel } from '../graph/write-onnx.ts';
import { PREVIEW_DECODER_DIR } from '../pipeline/pipeline.ts';

/** Returns the path of `<modelDir>/taesd_decoder/model.onnx`, writing it when missing. */
export function ensureRandomTaesd(modelDir: string, seed: number): string {
  const dir = join(modelDir, PREVIEW_DECODER_DIR);
  const file = join(dir, 'model.onnx');
  if (existsSync(file)) return file;
  const tmp = `${dir}.building-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeOnnxModel(buildTaesdDecoder(randomTaesdWeights(seed)), tmp, 'model.onnx');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return file;
}
