// Test helpers for the LoRA area: writing safetensors files, replaying recorded UNet steps of the
// fixture cases, and the external-data form of the tiny UNet.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../../test/fixtures.ts';
import { ort } from '../../onnx/ort.ts';
import { externalizeAll } from '../../onnx/proto/external-data.ts';
import { OnnxModel } from '../../onnx/proto/onnx-model.ts';
import { parseSafetensors } from '../safetensors.ts';

export const TINY_UNET = () => fixturePath('tiny-sd15/unet/model.onnx');
export const TINY_LORA = () => fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors');
export const LORA_CASES = [
  { name: 'cat_g1.5_s2_seed318_lora1.0', scale: 1.0 },
  { name: 'cat_g1.5_s4_seed1234_lora0.5', scale: 0.5 },
] as const;

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function encodeSafetensors(tensors: ReadonlyMap<string, RawTensor>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...[...tensors.values()].map((t) => t.bytes)]);
}

/** The fixture LoRA's tensors, for tests that build variants of it. */
export function fixtureLoraTensors(): Map<string, RawTensor> {
  return new Map(parseSafetensors(readFileSync(TINY_LORA())).tensors);
}

export function f32(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'yoso-lora-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeLora(dir: string, name: string, tensors: ReadonlyMap<string, RawTensor>): string {
  const path = join(dir, name);
  writeFileSync(path, encodeSafetensors(tensors));
  return path;
}

/** Writes the tiny UNet as model.onnx + model.onnx_data, the layout of real fp32 SD 1.5 UNets. */
export async function writeExternalDataUnet(dir: string): Promise<string> {
  const blob = externalizeAll(await OnnxModel.load(TINY_UNET()), 'model.onnx_data');
  writeFileSync(join(dir, 'model.onnx'), blob.modelBytes);
  writeFileSync(join(dir, 'model.onnx_data'), blob.data);
  return join(dir, 'model.onnx');
}

function caseArray(caseName: string, array: string): Float32Array {
  const bytes = readFileSync(fixturePath(`tiny-sd15/cases/${caseName}/${array}.bin`));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export function caseSteps(caseName: string): number[] {
  const json = JSON.parse(readFileSync(fixturePath(`tiny-sd15/cases/${caseName}/case.json`), 'utf8')) as {
    steps: Array<{ timestep: number }>;
  };
  return json.steps.map((s) => s.timestep);
}

/** Runs the UNet on a recorded step's input; returns its output and the recorded diffusers output. */
export async function replayUnetStep(session: ort.InferenceSession, caseName: string, step: number) {
  const sample = caseArray(caseName, `step${step}_unet_sample`);
  const hidden = caseArray(caseName, 'unet_encoder_hidden_states');
  const batch = sample.length / (4 * 8 * 8);
  const outputs = await session.run({
    sample: new ort.Tensor('float32', sample, [batch, 4, 8, 8]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(caseSteps(caseName)[step]!)), [1]),
    encoder_hidden_states: new ort.Tensor('float32', hidden, [batch, 77, 32]),
  });
  return { out: outputs.out_sample!.data as Float32Array, expected: caseArray(caseName, `step${step}_unet_out`) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
