import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { bfloat16ToFloats, fromHalfBits, halfToFloats, toHalfBits } from './float16.ts';

test('float16 conversion rounds to nearest even and keeps special values', () => {
  const table: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
    [1e9, 0x7c00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [Infinity, 0x7c00],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66],
  ];
  for (const [value, bits] of table) assert.equal(toHalfBits(value), bits, `${value}`);
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  for (let bits = 0; bits < 0x7c00; bits += 37) assert.equal(toHalfBits(fromHalfBits(bits)), bits);
});

test('halfToFloats (table) agrees with fromHalfBits on every half; bfloat16 is the top half of a float32', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const floats = halfToFloats(all);
  for (let h = 0; h < 65536; h++) {
    const expected = fromHalfBits(h);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(floats[h]!));
    else assert.equal(floats[h], expected, `bits ${h}`);
  }
  assert.deepEqual([...bfloat16ToFloats(new Uint16Array([0x3f80, 0xc040, 0x0000]))], [1, -3, 0]);
});
