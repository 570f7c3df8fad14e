import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decode, encode } from 'fast-png';
import { imageMetadata } from '../history/store.ts';
import { makeRequest, randomImage, saveInput } from '../history/test/factories.ts';
import { extractLoraTags, formatA1111Parameters, parseA1111Parameters } from './a1111.ts';
import { insertAfterHeader, readChunks, stripMetadataChunks, writeChunks } from './chunks.ts';
import { a1111TextFor, embedMetadata, NoParametersError, readPngParameters, readPngText } from './index.ts';
import { textChunk } from './text-chunks.ts';

const plainPng = () => encode({ width: 4, height: 4, data: randomImage(4, 4, 1).pixels, channels: 3, depth: 8 });

function ourPng(overrides: Parameters<typeof makeRequest>[0] = {}, batchIndex = 0) {
  const request = makeRequest({ lora: { id: 'yoso-sd15', scale: 0.8 }, guidance: 1.5, ...overrides });
  const meta = imageMetadata(saveInput(request), request, batchIndex, 'id-1', '2026-11-22T10:00:00.000Z', 'batch-1');
  return { meta, png: embedMetadata(plainPng(), meta) };
}

describe('PNG chunks', () => {
  it('inserts text chunks after IHDR and keeps the pixels decodable', () => {
    const png = insertAfterHeader(plainPng(), [textChunk('parameters', 'hello')]);
    assert.deepEqual(readChunks(png).map((c) => c.type).slice(0, 2), ['IHDR', 'tEXt']);
    assert.equal(decode(png).text.parameters, 'hello');
    assert.deepEqual(decode(png).data, decode(plainPng()).data);
  });

  it('writes iTXt (UTF-8) for non-Latin-1 text and tEXt otherwise, as PIL/A1111 do', () => {
    const png = insertAfterHeader(plainPng(), [textChunk('a', 'café'), textChunk('b', '猫と桜 🌸')]);
    const types = readChunks(png).map((c) => c.type);
    assert.deepEqual(types.slice(1, 3), ['tEXt', 'iTXt']);
    assert.deepEqual(readPngText(png), { a: 'café', b: '猫と桜 🌸' });
  });

  it('reads compressed iTXt and zTXt', () => {
    const z = Buffer.concat([Buffer.from('k\0\0', 'latin1'), deflateSync(Buffer.from('zipped text', 'latin1'))]);
    const png = insertAfterHeader(plainPng(), [textChunk('big', 'x'.repeat(5000), { compressAbove: 100 }), { type: 'zTXt', data: z }]);
    assert.equal(readChunks(png)[1]!.type, 'iTXt');
    assert.deepEqual(readPngText(png), { big: 'x'.repeat(5000), k: 'zipped text' });
  });

  it('rejects a damaged chunk with a message that says so', () => {
    const png = insertAfterHeader(plainPng(), [textChunk('parameters', 'hello')]);
    png[40] = png[40]! ^ 0xff;
    assert.throws(() => readChunks(png), /fails its CRC check/);
    assert.throws(() => readChunks(new Uint8Array(10)), /not a PNG/);
    assert.throws(() => readChunks(plainPng().subarray(0, 40)), /truncated/);
  });

  it('strips every text chunk but keeps the image identical', () => {
    const { png } = ourPng();
    const stripped = stripMetadataChunks(png);
    assert.deepEqual(readPngText(stripped), {});
    assert.deepEqual(decode(stripped).data, decode(png).data);
    assert.deepEqual(writeChunks(readChunks(stripped)), stripped);
  });
});

describe('our metadata', () => {
  it('round-trips the request through the JSON chunk', () => {
    const { meta, png } = ourPng({ prompt: '  leading space, 猫, "quotes", a: b\nsecond line', negativePrompt: 'blurry, 低品質' });
    const parsed = readPngParameters(png);
    assert.equal(parsed.source, 'yoso');
    assert.deepEqual(parsed.request, meta.request);
    assert.deepEqual(parsed.yoso, meta);
    assert.deepEqual(parsed.warnings, []);
  });

  it('writes the A1111 text the way A1111 does and it parses back to the same request', () => {
    const { meta, png } = ourPng({ seed: 318, steps: 2 }, 3);
    const text = readPngText(png).parameters!;
    assert.equal(
      text,
      'a red fox in the snow <lora:yoso-sd15:0.8>\n' +
        'Steps: 2, Sampler: LCM, CFG scale: 1.5, Seed: 321, Size: 512x512, Model hash: cc6cb27103, Model: sd15-base, ' +
        'Lora hashes: "yoso-sd15: 0123456789ab", Version: YOSO Studio 0.1.0',
    );
    const onlyA1111 = readPngParameters(insertAfterHeader(plainPng(), [textChunk('parameters', text)]));
    assert.equal(onlyA1111.source, 'a1111');
    assert.deepEqual(onlyA1111.request, meta.request);
    assert.deepEqual(onlyA1111.lora, { name: 'yoso-sd15', hash: '0123456789ab', scale: 0.8 });
    assert.equal(meta.seed, 321, 'image 3 of a batch from seed 318');
  });

  it('quotes values with commas or colons and writes the negative prompt line', () => {
    const text = formatA1111Parameters('p', 'n, m', [['Steps', 1], ['Note', 'a, b: c'], ['Seed', 5], ['Skip', undefined]]);
    assert.equal(text, 'p\nNegative prompt: n, m\nSteps: 1, Note: "a, b: c", Seed: 5');
    assert.deepEqual(parseA1111Parameters(text).params, { Steps: '1', Note: 'a, b: c', Seed: '5' });
  });

  it('makes shared-noise images reusable only as their whole batch', () => {
    const request = makeRequest({ seed: 7, batchSize: 4, sharedNoise: true });
    const meta = imageMetadata(saveInput(request), request, 2, 'x', '2026-01-01T00:00:00.000Z', 'b');
    assert.equal(meta.seed, 7);
    assert.deepEqual(meta.request, request);
    assert.equal(a1111TextFor(meta).includes('Seed: 7,'), true);
  });

  it('says clearly when a PNG has no parameters', () => {
    assert.throws(() => readPngParameters(plainPng()), NoParametersError);
  });
});

/** Real infotexts, as A1111 webui wrote them (collected from public test suites and tutorials). */
const REAL_A1111 = {
  sdxlStabilityMatrix:
    'test123\nNegative prompt: test, easy negative\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 3589107295, Size: 1024x1028, Model hash: 9aa0c3e54d, Model: nightvisionXL_v0770_BakedVAE, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, Style Selector Enabled: True, Style Selector Randomize: False, Style Selector Style: base, Version: 1.6.0',
  multilineLoraAdetailer:
    'photo ohwx man dressage riding a saber-toothed tiger , sunny day, 35mm photograph,film,professional,4k,highly detailed\n\n<lora:12gb_settings-000007:1>\nNegative prompt: drawing,painting,crayon,sketch,graphite,impressionist,noisy,blurry,soft,deformed,ugly\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1935425320, Size: 1280x720, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.5, ADetailer model: face_yolov8n.pt, ADetailer prompt: "face photo of ohwx man <lora:12gb_settings-000007:1>", ADetailer confidence: 0.3, ADetailer dilate/erode: 4, ADetailer mask blur: 4, ADetailer denoising strength: 0.4, ADetailer inpaint only masked: True, ADetailer inpaint padding: 32, Version: v1.5.1',
  batchInfotext:
    'Multiple Horses\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 443715055, Size: 512x512, Model hash: 925997e9, Batch size: 3, Batch pos: 1',
  loraHashes:
    'masterpiece, best quality, 1girl, <lora:add_detail:0.5>\nNegative prompt: (worst quality, low quality:1.4), EasyNegative\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 2389514735, Size: 512x768, Model hash: 7f96a1a9ca, Model: anything-v5, Clip skip: 2, Hires upscale: 2, Hires upscaler: Latent, Lora hashes: "add_detail: 7c6bad76eb54", TI hashes: "EasyNegative: c74b4e810b03", Version: v1.10.1',
};

describe('A1111 parameters from other apps', () => {
  it('reads an SDXL infotext with extra fields and adapts it to YOSO', () => {
    const p = parseA1111Parameters(REAL_A1111.sdxlStabilityMatrix);
    assert.equal(p.prompt, 'test123');
    assert.equal(p.negativePrompt, 'test, easy negative');
    assert.equal(p.params['Style Selector Style'], 'base');
    const r = readPngParameters(insertAfterHeader(plainPng(), [textChunk('parameters', REAL_A1111.sdxlStabilityMatrix)]));
    assert.equal(r.request.seed, 3589107295);
    assert.equal(r.request.steps, 8);
    assert.equal(r.request.width, 1024);
    assert.equal(r.request.height, 1032, '1028 is not a multiple of 8');
    assert.equal(r.request.baseModelId, 'nightvisionXL_v0770_BakedVAE');
    assert.deepEqual(r.model, { name: 'nightvisionXL_v0770_BakedVAE', hash: '9aa0c3e54d' });
    assert.ok(r.warnings.some((w) => w.includes('20 steps changed to 8')));
    assert.ok(r.warnings.some((w) => w.includes('Euler a')));
  });

  it('reads a multi-line prompt with a LoRA tag and quoted values holding commas and colons', () => {
    const r = readPngParameters(insertAfterHeader(plainPng(), [textChunk('parameters', REAL_A1111.multilineLoraAdetailer)]));
    assert.equal(r.request.prompt, 'photo ohwx man dressage riding a saber-toothed tiger , sunny day, 35mm photograph,film,professional,4k,highly detailed');
    assert.deepEqual(r.request.lora, { id: '12gb_settings-000007', scale: 1 });
    assert.equal(r.request.negativePrompt, 'drawing,painting,crayon,sketch,graphite,impressionist,noisy,blurry,soft,deformed,ugly');
    assert.equal(parseA1111Parameters(REAL_A1111.multilineLoraAdetailer).params['ADetailer prompt'], 'face photo of ohwx man <lora:12gb_settings-000007:1>');
    assert.equal(r.request.width, 1280);
    assert.equal(r.request.height, 720);
  });

  it('reads an infotext without a negative prompt and with LoRA hashes', () => {
    const batch = readPngParameters(insertAfterHeader(plainPng(), [textChunk('parameters', REAL_A1111.batchInfotext)]));
    assert.equal(batch.request.prompt, 'Multiple Horses');
    assert.equal(batch.request.negativePrompt, '');
    assert.equal(batch.request.seed, 443715055);
    assert.equal(batch.request.baseModelId, 'unknown');
    const lora = readPngParameters(insertAfterHeader(plainPng(), [textChunk('parameters', REAL_A1111.loraHashes)]));
    assert.equal(lora.request.prompt, 'masterpiece, best quality, 1girl');
    assert.deepEqual(lora.lora, { name: 'add_detail', hash: '7c6bad76eb54', scale: 0.5 });
    assert.equal(lora.request.guidance, 6.5);
    assert.ok(lora.warnings.some((w) => w.includes('hires')));
  });

  it('treats a last line with fewer than three parameters as prompt, like A1111', () => {
    const p = parseA1111Parameters('a cat\nStyle: oil, Mood: calm');
    assert.equal(p.prompt, 'a cat\nStyle: oil, Mood: calm');
    assert.deepEqual(p.params, {});
  });

  it('extracts LoRA tags (and lyco) from a prompt', () => {
    assert.deepEqual(extractLoraTags('<lora:a:0.5>, a cat <lyco:b:-1.25> on a mat'), {
      prompt: 'a cat on a mat',
      loras: [{ name: 'a', scale: 0.5 }, { name: 'b', scale: -1.25 }],
    });
  });
});

describe('ComfyUI', () => {
  // ComfyUI's default workflow in API form with a LoRA loader added, as its SaveImage node embeds it.
  const graph = {
    '3': { class_type: 'KSampler', inputs: { seed: 156680208700286, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['10', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,', clip: ['10', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['10', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
    '10': { class_type: 'LoraLoader', inputs: { lora_name: 'yoso_sd15.safetensors', strength_model: 0.9, strength_clip: 1, model: ['4', 0], clip: ['4', 1] } },
  };

  it('follows the sampler to prompts, size, checkpoint and LoRA', () => {
    const png = insertAfterHeader(plainPng(), [textChunk('prompt', JSON.stringify(graph)), textChunk('workflow', '{}')]);
    const r = readPngParameters(png);
    assert.equal(r.source, 'comfyui');
    assert.equal(r.request.prompt, graph['6'].inputs.text);
    assert.equal(r.request.negativePrompt, 'text, watermark');
    assert.equal(r.request.seed, 156680208700286);
    assert.equal(r.request.guidance, 8);
    assert.equal(r.request.baseModelId, 'v1-5-pruned-emaonly');
    assert.deepEqual(r.request.lora, { id: 'yoso_sd15', scale: 0.9 });
  });
});
