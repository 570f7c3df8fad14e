import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decode, encode } from 'fast-png';
import { randomImage } from '../history/test/factories.ts';
import { encodePngAsync } from './encode.ts';
import { textChunk } from './text-chunks.ts';

it('encodes RGB and RGBA that decode to the same pixels, with text chunks', async () => {
  for (const channels of [3, 4] as const) {
    const data = new Uint8Array(37 * 23 * channels);
    const noise = randomImage(37, 23 * channels, 9).pixels;
    for (let i = 0; i < data.length; i++) data[i] = (i % 7 === 0 ? noise[i % noise.length]! : (i * 13) % 256);
    const png = await encodePngAsync({ width: 37, height: 23, channels, data }, [textChunk('k', 'v')]);
    const back = decode(png);
    assert.equal(back.channels, channels);
    assert.deepEqual(new Uint8Array(back.data), data);
    assert.equal(back.text.k, 'v');
  }
});

it('compresses a smooth image better than unfiltered rows', async () => {
  const size = 128;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = (x * (c + 1) + y * 2) & 0xff;
  const ours = await encodePngAsync({ width: size, height: size, channels: 3, data });
  const plain = encode({ width: size, height: size, data, channels: 3, depth: 8 });
  assert.ok(ours.length < plain.length / 2, `${ours.length} vs ${plain.length}`);
});

it('rejects a pixel buffer of the wrong size', async () => {
  await assert.rejects(encodePngAsync({ width: 4, height: 4, channels: 3, data: new Uint8Array(5) }), /expected 4x4x3/);
});
