// LoRA fusion at real SD 1.5 size without the real weights (which cannot be downloaded here):
// writes a graph with every YOSO LoRA target of the SD 1.5 UNet at its true shape (node names as
// torch exports them, weights in model.onnx_data like optimum's fp32 export) and a rank-64 kohya
// LoRA of the same layout as yoso_lora.safetensors, then times read/fuse/open and reports memory
// and disk. Weight values are zeros: fusion cost does not depend on them.
//   npx tsx native-models/bench/lora-sd15-scale.ts [--fp16] [--keep DIR]
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ort } from '../src/onnx/ort.ts';
import { layoutBlob } from '../src/onnx/proto/external-data.ts';
import { OnnxModel } from '../src/onnx/proto/onnx-model.ts';
import { ModelProto, DataType } from '../src/onnx/proto/onnx-schema.ts';
import { LoraSessions } from '../src/lora/lora-sessions.ts';
import { createPatchedSession } from '../src/lora/patched-session.ts';

interface Layer {
  module: string;
  op: 'Conv' | 'MatMul' | 'Gemm';
  out: number;
  in: number;
  k: number;
  stride?: number;
}

/** The YOSO target modules of SD 1.5's UNet (block_out_channels 320/640/1280/1280, cross-attn 768). */
function sd15Targets(): Layer[] {
  const L: Layer[] = [];
  const resnet = (p: string, cin: number, c: number) => {
    L.push({ module: `${p}.conv1`, op: 'Conv', out: c, in: cin, k: 3 }, { module: `${p}.time_emb_proj`, op: 'Gemm', out: c, in: 1280, k: 1 });
    L.push({ module: `${p}.conv2`, op: 'Conv', out: c, in: c, k: 3 });
    if (cin !== c) L.push({ module: `${p}.conv_shortcut`, op: 'Conv', out: c, in: cin, k: 1 });
  };
  const attention = (p: string, c: number) => {
    const t = `${p}.transformer_blocks.0`;
    L.push({ module: `${p}.proj_in`, op: 'Conv', out: c, in: c, k: 1 }, { module: `${p}.proj_out`, op: 'Conv', out: c, in: c, k: 1 });
    for (const a of ['attn1', 'attn2']) {
      const kv = a === 'attn2' ? 768 : c;
      L.push({ module: `${t}.${a}.to_q`, op: 'MatMul', out: c, in: c, k: 1 }, { module: `${t}.${a}.to_k`, op: 'MatMul', out: c, in: kv, k: 1 });
      L.push({ module: `${t}.${a}.to_v`, op: 'MatMul', out: c, in: kv, k: 1 }, { module: `${t}.${a}.to_out.0`, op: 'MatMul', out: c, in: c, k: 1 });
    }
    L.push({ module: `${t}.ff.net.0.proj`, op: 'MatMul', out: 8 * c, in: c, k: 1 }, { module: `${t}.ff.net.2`, op: 'MatMul', out: c, in: 4 * c, k: 1 });
  };
  const ch = [320, 640, 1280, 1280];
  const skips = [320];
  let prev = 320;
  ch.forEach((c, i) => {
    for (let j = 0; j < 2; j++) {
      resnet(`down_blocks.${i}.resnets.${j}`, j === 0 ? prev : c, c);
      if (i < 3) attention(`down_blocks.${i}.attentions.${j}`, c);
      skips.push(c);
    }
    if (i < 3) {
      L.push({ module: `down_blocks.${i}.downsamplers.0.conv`, op: 'Conv', out: c, in: c, k: 3, stride: 2 });
      skips.push(c);
    }
    prev = c;
  });
  resnet('mid_block.resnets.0', 1280, 1280);
  attention('mid_block.attentions.0', 1280);
  resnet('mid_block.resnets.1', 1280, 1280);
  [...ch].reverse().forEach((c, i) => {
    for (let j = 0; j < 3; j++) {
      resnet(`up_blocks.${i}.resnets.${j}`, prev + skips.pop()!, c);
      if (i > 0) attention(`up_blocks.${i}.attentions.${j}`, c);
      prev = c;
    }
    if (i < 3) L.push({ module: `up_blocks.${i}.upsamplers.0.conv`, op: 'Conv', out: c, in: c, k: 3 });
  });
  return L;
}

const weightDims = (l: Layer) => (l.op === 'Conv' ? [l.out, l.in, l.k, l.k] : l.op === 'Gemm' ? [l.out, l.in] : [l.in, l.out]);

function writeModel(dir: string, layers: Layer[], dataType: number): void {
  const float = DataType.FLOAT;
  const value = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType } } });
  const nodes = layers.map((l, i) => {
    const scope = `/${l.module.replace(/\.(\d+)/g, '.$1').split('.').reduce<string[]>((acc, part) => {
      if (/^\d+$/.test(part)) acc[acc.length - 1] += `.${part}`;
      else acc.push(part);
      return acc;
    }, []).join('/')}/${l.op}`;
    const attribute = l.op === 'Conv' ? [{ name: 'pads', ints: Array(4).fill(l.k === 3 ? 1 : 0), type: 7 }, { name: 'strides', ints: [l.stride ?? 1, l.stride ?? 1], type: 7 }] : l.op === 'Gemm' ? [{ name: 'transB', i: 1, type: 2 }] : [];
    return { opType: l.op, name: scope, input: [`x${i}`, `w${i}`], output: [`y${i}`], attribute };
  });
  const graph = {
    name: 'sd15_lora_targets',
    node: nodes,
    initializer: layers.map((l, i) => ({ name: `w${i}`, dims: weightDims(l), dataType, rawData: new Uint8Array(2) })),
    input: layers.map((_, i) => value(`x${i}`, dataType === float ? float : dataType)),
    output: layers.map((_, i) => value(`y${i}`, dataType)),
  };
  const bytes = ModelProto.encode(ModelProto.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
  const layout = layoutBlob('model.onnx_data', layers.map((l, i) => ({ name: `w${i}`, dataType, dims: weightDims(l) })));
  writeFileSync(join(dir, 'model.onnx'), new OnnxModel(bytes, undefined).withExternalInitializers(layout.refs));
  const fd = openSync(join(dir, 'model.onnx_data'), 'w');
  const zeros = Buffer.alloc(64 * 2 ** 20);
  for (let done = 0; done < layout.size; ) {
    const n = writeSync(fd, zeros, 0, Math.min(zeros.length, layout.size - done));
    done += n;
  }
  closeSync(fd);
}

function writeLora(path: string, layers: Layer[], rank: number): void {
  const header: Record<string, unknown> = {};
  const sizes: number[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    sizes.push(bytes);
  };
  for (const l of layers) {
    const p = `lora_unet_${l.module.replace(/\./g, '_')}`;
    add(`${p}.lora_down.weight`, l.op === 'Conv' ? [rank, l.in, l.k, l.k] : [rank, l.in]);
    add(`${p}.lora_up.weight`, l.op === 'Conv' ? [l.out, rank, 1, 1] : [l.out, rank]);
    add(`${p}.alpha`, []);
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  writeSync(fd, length);
  writeSync(fd, json);
  const values = Buffer.alloc(Math.max(...sizes));
  new Float32Array(values.buffer, values.byteOffset, values.length / 4).fill(0.01);
  for (const size of sizes) writeSync(fd, values, 0, size);
  closeSync(fd);
}

const MIB = 2 ** 20;
const rssMiB = () => (process.memoryUsage().rss / MIB).toFixed(0);

async function main() {
  const { values } = parseArgs({ options: { fp16: { type: 'boolean' }, keep: { type: 'string' } } });
  const dataType = values.fp16 ? DataType.FLOAT16 : DataType.FLOAT;
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'yoso-sd15-lora-'));
  try {
    const layers = sd15Targets();
    const params = layers.reduce((a, l) => a + l.out * l.in * l.k * l.k, 0);
    let t = performance.now();
    writeModel(dir, layers, dataType);
    writeLora(join(dir, 'lora.safetensors'), layers, 64);
    const dataBytes = statSync(join(dir, 'model.onnx_data')).size;
    console.log(
      `${layers.length} target layers, ${(params / 1e6).toFixed(0)} M weights, model.onnx_data ${(dataBytes / MIB).toFixed(0)} MiB, ` +
        `rank-64 LoRA ${(statSync(join(dir, 'lora.safetensors')).size / MIB).toFixed(0)} MiB (written in ${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
    const opts = { graphOptimizationLevel: 'disabled' } as const;
    const sessions = new LoraSessions<ort.InferenceSession>(
      (src) => (typeof src === 'string' ? ort.InferenceSession.create(src, opts) : createPatchedSession(src, opts)),
      64 * 2 ** 30,
    );
    const before = rssMiB();
    t = performance.now();
    const first = await sessions.sessions({ unet: join(dir, 'model.onnx') }, { path: join(dir, 'lora.safetensors'), scale: 1 });
    const coldMs = performance.now() - t;
    if (global.gc) global.gc();
    const r = first.timings;
    console.log(
      `cold LoRA UNet: ${(coldMs / 1000).toFixed(1)} s (read LoRA + graph ${(r.readMs / 1000).toFixed(1)} s, fuse ${(r.fuseMs / 1000).toFixed(1)} s, ` +
        `open session ${(r.openMs / 1000).toFixed(1)} s); applied ${first.report?.applied.unet} layers`,
    );
    console.log(`RSS ${before} MiB before, ${rssMiB()} MiB right after opening (the fused buffers are garbage, freed by a later GC); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    t = performance.now();
    await sessions.sessions({ unet: join(dir, 'model.onnx') });
    console.log(`cold base UNet from its files: ${((performance.now() - t) / 1000).toFixed(1)} s; RSS ${rssMiB()} MiB`);
    t = performance.now();
    const again = await sessions.sessions({ unet: join(dir, 'model.onnx') }, { path: join(dir, 'lora.safetensors'), scale: 1 });
    console.log(`switch back to the kept LoRA UNet: ${(performance.now() - t).toFixed(1)} ms (reused ${again.reused})`);
    console.log(`disk written by fusion: 0 bytes (folder holds only the inputs: ${(statSync(join(dir, 'model.onnx')).size / MIB).toFixed(1)} MiB graph)`);
    await sessions.releaseAll();
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
