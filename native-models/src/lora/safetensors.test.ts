import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSafetensors, readSafetensorsFile, SafetensorsError, toFloat32 } from './safetensors.ts';
import { encodeSafetensors, f32, tempDir, TINY_LORA } from './test/helpers.ts';

test('reads the fixture LoRA: 831 float32 tensors with kohya keys', async () => {
  const file = await readSafetensorsFile(TINY_LORA());
  assert.equal(file.tensors.size, 831);
  const alpha = file.tensors.get('lora_unet_down_blocks_0_attentions_0_proj_in.alpha')!;
  assert.deepEqual(alpha.shape, []);
  assert.deepEqual([...toFloat32('alpha', alpha)], [2]);
  assert.deepEqual(file.tensors.get('lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight')!.shape, [4, 32, 1, 1]);
});

test('a truncated file is refused with a message that says so', async (t) => {
  const bytes = readFileSync(TINY_LORA());
  const path = join(tempDir(t), 'cut.safetensors');
  writeFileSync(path, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(readSafetensorsFile(path), (e: Error) => {
    assert.ok(e instanceof SafetensorsError);
    assert.match(e.message, /cut\.safetensors is not a valid \.safetensors file: .*truncated.*Download it again/);
    return true;
  });
  writeFileSync(path, bytes.subarray(0, 5000));
  await assert.rejects(readSafetensorsFile(path), /exceeds the file size|truncated/);
  writeFileSync(path, bytes.subarray(0, 4));
  await assert.rejects(readSafetensorsFile(path), /less than the 8-byte header length/);
});

test('corrupt headers are refused, never trusted', () => {
  const good = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], bytes: f32([1, 2]) }]]));
  assert.deepEqual([...toFloat32('w', parseSafetensors(good).tensors.get('w')!)], [1, 2]);
  const withHeader = (header: string) => {
    const json = Buffer.from(header);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, Buffer.alloc(8)]);
  };
  assert.throws(() => parseSafetensors(withHeader('{"w": ')), /not valid JSON/);
  assert.throws(() => parseSafetensors(withHeader('[1]')), /not a JSON object/);
  assert.throws(() => parseSafetensors(withHeader('{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}')), /unknown dtype Q9/);
  assert.throws(() => parseSafetensors(withHeader('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}')), /shape needs 12/);
  assert.throws(() => parseSafetensors(withHeader('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}')), /truncated/);
  assert.throws(() => parseSafetensors(withHeader('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}')), /invalid shape/);
});

test('float16 and bfloat16 LoRA weights are widened exactly', () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer); // 1, -2, 0.333251953125
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
  assert.deepEqual([...toFloat32('h', { dtype: 'F16', shape: [3], bytes: half })], [1, -2, 0.333251953125]);
  assert.deepEqual([...toFloat32('b', { dtype: 'BF16', shape: [2], bytes: bf16 })], [1, -3]);
});
