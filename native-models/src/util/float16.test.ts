import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fromHalfBits, toHalfBits } from './float16.ts';

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
