import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode as encodeUnfiltered } from 'fast-png';
import { encodePng, encodePngAsync, rgbPixels, type PngImage, type PngOptions } from './png.ts';

/**
 * Noise, mostly from four values so that the Paeth distances tie often (the tie order is part of
 * the format), every 5th byte from all 256 (wrap-around in the subtraction).
 */
function mixedPixels(width: number, height: number, channels: 3 | 4): PngImage {
  const data = new Uint8Array(width * height * channels);
  let s = 9;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = i % 5 === 0 ? s >>> 24 : (s >>> 30) * 60;
  }
  return { width, height, channels, data };
}

function smoothRgb(side: number): Uint8Array {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) data[(y * side + x) * 3 + c] = (x * (c + 1) + y * 2) & 0xff;
  return data;
}

/** Byte offset of the chunk `type` whose data starts with `prefix`, or -1. */
function chunkOffset(png: Uint8Array, type: string, prefix = ''): number {
  return Buffer.from(png).indexOf(Buffer.from(type + prefix, 'latin1'));
}

const DEFLATE_CHOICES: Array<PngOptions['deflate']> = [undefined, 'rle', 1, 6];

describe('PNG encoder', () => {
  it('encodes RGB and RGBA that decode to the same pixels, in both forms and with every deflate choice', async () => {
    for (const channels of [3, 4] as const) {
      const image = mixedPixels(37, 23, channels);
      for (const deflate of DEFLATE_CHOICES) {
        const png = encodePng(image, { deflate });
        const back = decode(png);
        assert.equal(back.channels, channels);
        assert.equal(back.width, 37);
        assert.deepEqual(new Uint8Array(back.data), image.data, `${channels} channels, deflate ${deflate}`);
        assert.deepEqual(await encodePngAsync(image, { deflate }), png, 'the async form writes the same bytes');
      }
    }
  });

  it('writes A1111 "parameters" as tEXt right after IHDR, non-Latin-1 text as iTXt, then given chunks', () => {
    const parameters = 'a corgi\nSteps: 1, Sampler: LCM, CFG scale: 1.5, Seed: 7, Size: 64x64';
    const extra = { type: 'tEXt', data: new Uint8Array([...Buffer.from('extra', 'latin1'), 0, 0x41]) };
    const png = encodePng(rgbPixels(smoothRgb(16), 16, 16), { text: { parameters, prompt: '柴犬' }, chunks: [extra] });
    const back = decode(png);
    assert.equal(back.text.parameters, parameters);
    assert.equal(back.text.extra, 'A');
    const offsets = [chunkOffset(png, 'IHDR'), chunkOffset(png, 'tEXt', 'parameters\0'), chunkOffset(png, 'iTXt', 'prompt\0'), chunkOffset(png, 'tEXt', 'extra\0'), chunkOffset(png, 'IDAT')];
    assert.ok(offsets.every((o) => o > 0), `every chunk present: ${offsets}`);
    assert.deepEqual([...offsets].sort((a, b) => a - b), offsets, 'IHDR, text, given chunks, IDAT in that order');
  });

  it('compresses a smooth image to under half the size of unfiltered rows', () => {
    const side = 128;
    const data = smoothRgb(side);
    const plain = encodeUnfiltered({ width: side, height: side, data, channels: 3, depth: 8 });
    for (const deflate of DEFLATE_CHOICES) {
      const ours = encodePng(rgbPixels(data, side, side), { deflate });
      assert.ok(ours.length < plain.length / 2, `deflate ${deflate}: ${ours.length} vs ${plain.length}`);
    }
  });

  it('rejects a pixel buffer of the wrong size, naming the size it expected', async () => {
    const image: PngImage = { width: 4, height: 4, channels: 3, data: new Uint8Array(5) };
    assert.throws(() => encodePng(image), /has 5 bytes, expected 48 \(4x4x3 for RGB/);
    await assert.rejects(encodePngAsync({ ...image, channels: 4 }), /has 5 bytes, expected 64 \(4x4x4 for RGBA/);
    assert.throws(() => encodePng({ width: 0, height: 4, channels: 3, data: new Uint8Array(0) }), /at least 1 pixel \(got 0x4\)/);
  });

  it('rejects a bad text keyword before encoding', () => {
    assert.throws(() => encodePng(rgbPixels(smoothRgb(4), 4, 4), { text: { '': 'x' } }), /keyword must be 1-79 Latin-1 characters/);
  });
});
