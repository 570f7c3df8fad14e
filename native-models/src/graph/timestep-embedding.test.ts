import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { ModelProto } from '../onnx/proto/onnx-schema.ts';
import { timestepFrequencies } from './unet.ts';

test('timestep frequencies are within one float32 ulp of the exported UNet\'s folded constant', () => {
  const model = ModelProto.toObject(ModelProto.decode(readFileSync(fixturePath('tiny-sd15/unet/model.onnx')))) as {
    graph: { node: Array<{ name: string; attribute: Array<{ t: { rawData: Uint8Array } }> }> };
  };
  const raw = model.graph.node.find((n) => n.name === '/time_proj/Constant_1')!.attribute[0]!.t.rawData;
  const reference = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const ours = timestepFrequencies(reference.length);
  assert.equal(reference.length, 16);
  reference.forEach((r, i) => assert.ok(Math.abs(r - ours[i]!) <= r * 2 ** -23, `frequency ${i}: ${ours[i]} vs ${r}`));
  assert.equal(ours[0], 1);
});
