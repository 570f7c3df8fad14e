// The LoRA fusion finds each target layer through its ONNX node (named after the module path, as
// torch's export names it) and that node's weight initializer. A built UNet must expose every YOSO
// target exactly like the exported fixture UNet: same node name, op type, weight shape, layout and values.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { loadCheckpoint } from '../checkpoint/load-weights.ts';
import { readTensorBytes } from '../checkpoint/safetensors.ts';
import { toFloat32 } from '../checkpoint/weights.ts';
import type { Initializer } from './graph-builder.ts';
import { ModelProto } from '../onnx/proto/onnx-schema.ts';
import { deriveSd15Config } from './sd15-config.ts';
import { buildUnet } from './unet.ts';

interface Target { onnx_node: string; op_type: string; weight_initializer: string; weight_shape: number[] }

function values(init: Initializer): Float32Array {
  const d = init.data;
  const bytes = d.kind === 'bytes' ? d.bytes : d.kind === 'lazy' ? d.produce() : readTensorBytes({ key: init.name, dtype: 'F32', shape: init.dims, offset: d.offset, length: d.length, path: d.path });
  return toFloat32(bytes, 'F32');
}

test('every YOSO LoRA target is the same node, weight shape, layout and values as in the exported UNet', () => {
  const { targets } = JSON.parse(readFileSync(fixturePath('tiny-sd15/lora/lora_targets.json'), 'utf8')) as { targets: Target[] };
  const ck = loadCheckpoint(fixturePath('tiny-sd15/checkpoint/tiny-sd15.safetensors'));
  const graph = buildUnet(ck.weights, deriveSd15Config(ck.weights, { textEncoder: { num_attention_heads: 2 } }).unet);
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const exported = ModelProto.toObject(ModelProto.decode(readFileSync(fixturePath('tiny-sd15/unet/model.onnx'))), { longs: Number }) as {
    graph: { initializer: Array<{ name: string; rawData: Uint8Array }> };
  };
  const reference = new Map(exported.graph.initializer.map((i) => [i.name, i.rawData]));
  assert.equal(targets.length, 277);
  for (const t of targets) {
    const node = nodes.get(t.onnx_node);
    assert.ok(node, `no node ${t.onnx_node}`);
    assert.equal(node.opType, t.op_type, t.onnx_node);
    const init = inits.get(node.inputs[1]!);
    assert.ok(init, `${t.onnx_node}: weight input is not an initializer`);
    assert.deepEqual(init.dims, t.weight_shape, t.onnx_node);
    const ref = toFloat32(reference.get(t.weight_initializer)!, 'F32');
    assert.deepEqual(values(init), ref, `${t.onnx_node}: weight values differ`);
  }
});
