import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixturePath } from '../../test/fixtures.ts';
import { layersFromSafetensors, parseKey, readLoraFile } from './lora-file.ts';
import { parseSafetensors } from './safetensors.ts';
import { encodeSafetensors, fixtureLoraTensors, type RawTensor } from './test/helpers.ts';

interface TargetsJson {
  targets: Array<{ kohya_prefix: string; module: string }>;
}
const targetsJson = () =>
  JSON.parse(readFileSync(fixturePath('tiny-sd15/lora/lora_targets.json'), 'utf8')) as TargetsJson;

test('kohya keys: 277 rank-4 layers with alpha/rank = 0.5', async () => {
  const lora = await readLoraFile(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'));
  assert.equal(lora.layers.length, 277);
  assert.deepEqual(lora.unrecognizedKeys, []);
  assert.ok(lora.layers.every((l) => l.rank === 4 && l.alphaScale === 0.5 && l.component === 'unet'));
});

test('the key formats of kohya, peft, diffusers and old attention processors', () => {
  const cases: Array<[string, ReturnType<typeof parseKey>]> = [
    ['lora_unet_mid_block_resnets_0_conv1.lora_up.weight', { component: 'unet', flatName: 'mid_block_resnets_0_conv1', role: 'up' }],
    ['lora_te_text_model_encoder_layers_0_mlp_fc1.alpha', { component: 'text_encoder', flatName: 'text_model_encoder_layers_0_mlp_fc1', role: 'alpha' }],
    ['unet.mid_block.attentions.0.proj_in.lora_A.weight', { component: 'unet', flatName: 'mid_block_attentions_0_proj_in', role: 'down' }],
    ['text_encoder.text_model.encoder.layers.1.self_attn.k_proj.lora_B.weight', { component: 'text_encoder', flatName: 'text_model_encoder_layers_1_self_attn_k_proj', role: 'up' }],
    ['unet.up_blocks.1.resnets.0.conv2.lora.down.weight', { component: 'unet', flatName: 'up_blocks_1_resnets_0_conv2', role: 'down' }],
    ['unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight', { component: 'unet', flatName: 'down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0', role: 'up' }],
    ['lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight', { component: 'foreign', flatName: 'text_model_encoder_layers_0_mlp_fc1', role: 'up' }],
    ['model.diffusion_model.input_blocks.0.weight', undefined],
  ];
  for (const [key, expected] of cases) assert.deepEqual(parseKey(key), expected, key);
});

test('a peft-format copy of the fixture LoRA gives the same layers as the kohya file', () => {
  const kohya = fixtureLoraTensors();
  const peft = new Map<string, RawTensor>();
  for (const { kohya_prefix, module } of targetsJson().targets) {
    peft.set(`unet.${module}.lora_A.weight`, kohya.get(`${kohya_prefix}.lora_down.weight`)!);
    peft.set(`unet.${module}.lora_B.weight`, kohya.get(`${kohya_prefix}.lora_up.weight`)!);
    peft.set(`unet.${module}.alpha`, kohya.get(`${kohya_prefix}.alpha`)!);
  }
  peft.set('unet.some.thing.we.do.not.read', kohya.get('lora_unet_mid_block_resnets_0_conv1.alpha')!);
  const fromPeft = layersFromSafetensors(parseSafetensors(encodeSafetensors(peft)));
  const fromKohya = layersFromSafetensors(parseSafetensors(encodeSafetensors(kohya)));
  assert.deepEqual(fromPeft.unrecognizedKeys, ['unet.some.thing.we.do.not.read']);
  const byName = new Map(fromKohya.layers.map((l) => [l.flatName, l]));
  assert.equal(fromPeft.layers.length, 277);
  for (const layer of fromPeft.layers) {
    const twin = byName.get(layer.flatName)!;
    assert.ok(twin, layer.flatName);
    assert.deepEqual([layer.down, layer.up, layer.alphaScale], [twin.down, twin.up, twin.alphaScale]);
  }
});

test('a down without its up is reported, not applied', () => {
  const kohya = fixtureLoraTensors();
  kohya.delete('lora_unet_mid_block_resnets_0_conv1.lora_up.weight');
  const lora = layersFromSafetensors(parseSafetensors(encodeSafetensors(kohya)));
  assert.equal(lora.layers.length, 276);
  assert.deepEqual(lora.unrecognizedKeys.sort(), [
    'lora_unet_mid_block_resnets_0_conv1.alpha',
    'lora_unet_mid_block_resnets_0_conv1.lora_down.weight',
  ]);
});
