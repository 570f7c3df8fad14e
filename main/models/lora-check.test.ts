// The LoRA key check: the fixture (kohya, the YOSO layout) passes; LoRAs for other
// architectures and files that are no LoRA at all are refused with the reason named.
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturePath } from '../../native-models/test/fixtures.ts';
import { checkLoraFile } from './lora-check.ts';
import { tempDir } from './test/helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ path: dir, cleanup } = await tempDir('yoso-lora-')));
after(() => cleanup());

/** Writes a float32 safetensors file with zero-filled tensors of the given shapes. */
async function safetensors(name: string, shapes: Record<string, number[]>): Promise<string> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, shape] of Object.entries(shapes)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([length, json, Buffer.alloc(offset)]));
  return path;
}

const kohya = (module: string, rank: number, inDim: number, outDim: number) => ({
  [`lora_unet_${module}.lora_down.weight`]: [rank, inDim],
  [`lora_unet_${module}.lora_up.weight`]: [outDim, rank],
  [`lora_unet_${module}.alpha`]: [],
});

test('the YOSO-style kohya fixture is an SD 1.5 UNet LoRA (277 layers, rank 4)', async () => {
  const summary = await checkLoraFile(fixturePath('tiny-sd15/lora/tiny_yoso_style_lora.safetensors'));
  assert.deepEqual(summary, { format: 'kohya', unetLayers: 277, textEncoderLayers: 0, ranks: [4], crossAttentionDim: 32 });
});

test('a diffusers/peft LoRA with SD 1.5 names and 768-wide cross-attention passes', async () => {
  const path = await safetensors('peft.safetensors', {
    'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight': [8, 768],
    'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight': [320, 8],
  });
  const summary = await checkLoraFile(path);
  assert.deepEqual([summary.format, summary.unetLayers, summary.crossAttentionDim], ['diffusers', 1, 768]);
});

const refused: Array<[string, Record<string, number[]>, RegExp]> = [
  ['sdxl-te2', { ...kohya('down_blocks_1_attentions_0_proj_in', 4, 640, 640), 'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': [4, 1280], 'lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': [5120, 4] }, /second text encoder: this is an SDXL LoRA/],
  ['sdxl-ldm', kohya('input_blocks_4_1_transformer_blocks_0_attn2_to_k', 4, 2048, 640), /original LDM names/],
  ['sd2', kohya('down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k', 4, 1024, 320), /1024-wide text embeddings: an SD 2\.x LoRA/],
  ['te-only', { 'lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': [4, 768], 'lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': [3072, 4] }, /changes no UNet layer/],
  ['half-pair', { 'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight': [4, 1280] }, /only half of its down\/up pair/],
  ['not-lora', { 'conv.weight': [4, 4], 'conv.bias': [4] }, /is not a LoRA: no lora_down\/lora_up .* \(first keys: conv\.weight, conv\.bias\)/],
  ['checkpoint', { 'model.diffusion_model.input_blocks.0.0.weight': [320, 4, 3, 3] }, /full Stable Diffusion checkpoint, not a LoRA/],
];

for (const [name, shapes, message] of refused) {
  test(`refused: ${name}`, async () => {
    await assert.rejects(checkLoraFile(await safetensors(`${name}.safetensors`, shapes)), message);
  });
}

test('a truncated or non-safetensors file is refused as such', async () => {
  const full = await safetensors('cut.safetensors', kohya('mid_block_attentions_0_proj_in', 4, 1280, 1280));
  const { readFile } = await import('node:fs/promises');
  const bytes = await readFile(full);
  await writeFile(full, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(checkLoraFile(full), /is not a valid \.safetensors file: .*truncated/);
  const text = join(dir, 'notes.safetensors');
  await writeFile(text, 'hello world, not a tensor file');
  await assert.rejects(checkLoraFile(text), /is not a valid \.safetensors file/);
});
