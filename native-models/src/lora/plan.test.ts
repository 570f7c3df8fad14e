import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { ort } from '../onnx/ort.ts';
import { OnnxModel } from '../onnx/proto/onnx-model.ts';
import { applyLora } from './apply-lora.ts';
import { createPatchedSession } from './patched-session.ts';
import { layersFromSafetensors, readLoraFile } from './lora-file.ts';
import { LoraMismatchError } from './plan.ts';
import { parseSafetensors } from './safetensors.ts';
import { encodeSafetensors, f32, fixtureLoraTensors, maxAbsDiff, TINY_LORA, TINY_UNET, type RawTensor } from './test/helpers.ts';

const parse = (tensors: ReadonlyMap<string, RawTensor>) => layersFromSafetensors(parseSafetensors(encodeSafetensors(tensors)));
const randomF32 = (n: number, seed: number) => f32(Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.3));

test('keys that match no layer are reported; the rest is applied', async () => {
  const tensors = fixtureLoraTensors();
  tensors.set('lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight', { dtype: 'F32', shape: [4, 32, 3, 3], bytes: randomF32(4 * 32 * 9, 1) });
  tensors.set('lora_unet_down_blocks_7_resnets_0_conv1.lora_up.weight', { dtype: 'F32', shape: [32, 4, 1, 1], bytes: randomF32(128, 2) });
  tensors.set('some_other_tool.weight', { dtype: 'F32', shape: [1], bytes: f32([1]) });
  const { report } = await applyLora(parse(tensors), { unet: await OnnxModel.load(TINY_UNET()) }, 1);
  assert.equal(report.applied.unet, 277);
  assert.deepEqual(report.unmatchedKeys.sort(), [
    'lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight',
    'lora_unet_down_blocks_7_resnets_0_conv1.lora_up.weight',
  ]);
  assert.deepEqual(report.ignoredKeys, ['some_other_tool.weight']);
});

test('an SDXL LoRA is refused with a message that says so', async () => {
  const sdxl = new Map<string, RawTensor>([
    ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight', { dtype: 'F32', shape: [4, 2048], bytes: randomF32(8192, 3) }],
    ['lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight', { dtype: 'F32', shape: [640, 4], bytes: randomF32(2560, 4) }],
    ['lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight', { dtype: 'F32', shape: [4, 1280], bytes: randomF32(5120, 5) }],
    ['lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight', { dtype: 'F32', shape: [5120, 4], bytes: randomF32(20480, 6) }],
  ]);
  await assert.rejects(applyLora(parse(sdxl), { unet: await OnnxModel.load(TINY_UNET()) }, 1), (e: Error) => {
    assert.ok(e instanceof LoraMismatchError);
    assert.match(e.message, /does not fit the SD 1\.5 UNet: none of its 1 unet layers.*SDXL LoRA; use a LoRA made for SD 1\.5/);
    return true;
  });
});

test('a LoRA whose layers have other shapes is refused whole, nothing half-applied', async () => {
  // Same names as SD 1.5, but cross-attention width 2048 (as in SDXL): one bad layer refuses all.
  const tensors = fixtureLoraTensors();
  const prefix = 'lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k';
  tensors.set(`${prefix}.lora_down.weight`, { dtype: 'F32', shape: [4, 2048], bytes: randomF32(8192, 7) });
  await assert.rejects(applyLora(parse(tensors), { unet: await OnnxModel.load(TINY_UNET()) }, 1), (e: Error) => {
    assert.ok(e instanceof LoraMismatchError);
    assert.match(e.message, /1 of 277 layers have other shapes \(lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k\.lora_down\.weight: LoRA maps 2048 -> 64.*It looks like an SDXL LoRA/);
    return true;
  });
});

test('a file with no LoRA layer at all is refused', async () => {
  const checkpoint = new Map<string, RawTensor>([['model.diffusion_model.out.2.weight', { dtype: 'F32', shape: [2], bytes: f32([1, 2]) }]]);
  await assert.rejects(applyLora(parse(checkpoint), { unet: await OnnxModel.load(TINY_UNET()) }, 1), /holds no SD 1\.5 UNet or text-encoder LoRA layer/);
});

test('text-encoder layers are fused into the text encoder when the file has them', async () => {
  const tensors = fixtureLoraTensors();
  const te = (name: string, inF: number, outF: number, seed: number) => {
    tensors.set(`lora_te_text_model_encoder_layers_${name}.lora_down.weight`, { dtype: 'F32', shape: [2, inF], bytes: randomF32(2 * inF, seed) });
    tensors.set(`lora_te_text_model_encoder_layers_${name}.lora_up.weight`, { dtype: 'F32', shape: [outF, 2], bytes: randomF32(2 * outF, seed + 1) });
  };
  te('0_self_attn_q_proj', 32, 32, 10);
  te('1_mlp_fc1', 32, 37, 20);
  const textEncoderPath = fixturePath('tiny-sd15/text_encoder/model.onnx');
  const models = { unet: await OnnxModel.load(TINY_UNET()), textEncoder: await OnnxModel.load(textEncoderPath) };
  const { textEncoder, report } = await applyLora(parse(tensors), models, 1);
  assert.deepEqual(report.applied, { unet: 277, text_encoder: 2 });
  assert.deepEqual(report.unmatchedKeys, []);

  const ids = new ort.Tensor('int32', Int32Array.from({ length: 77 }, (_, i) => (i === 0 ? 49406 : 49407)), [1, 77]);
  const base = await ort.InferenceSession.create(textEncoderPath);
  const patched = await createPatchedSession(textEncoder!);
  const a = (await base.run({ input_ids: ids })).last_hidden_state!.data as Float32Array;
  const b = (await patched.run({ input_ids: ids })).last_hidden_state!.data as Float32Array;
  assert.ok(maxAbsDiff(a, b) > 1e-3, 'the text-encoder LoRA changes the embeddings');
  await base.release();
  await patched.release();
});

test('without a text-encoder model, its layers are reported as not applied', async () => {
  const lora = await readLoraFile(TINY_LORA());
  lora.layers[0] = { ...lora.layers[0]!, component: 'text_encoder' };
  const { report } = await applyLora(lora, { unet: await OnnxModel.load(TINY_UNET()) }, 1);
  assert.equal(report.applied.unet, 276);
  assert.equal(report.unmatchedKeys.length, 3);
});
