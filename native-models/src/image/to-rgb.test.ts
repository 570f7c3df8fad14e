import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { vaeOutputToRgb } from './to-rgb.ts';

/** numpy's conversion, step by step: float32 x/2 + 0.5, clip, float32 *255, round half to even. */
function numpyPixel(x: number): number {
  const v = Math.min(1, Math.max(0, Math.fround(Math.fround(x) * 0.5 + 0.5)));
  const y = Math.fround(v * 255);
  const r = Math.round(y);
  return r - y === 0.5 && r % 2 === 1 ? r - 1 : r;
}

test('pixels: clamped, HWC, rounded half to even as numpy does', () => {
  // Every exact tie k + 0.5 (both parities), values just beside them, out-of-range values.
  const values = [-3, -1, -0.999, 1, 1.5, 7, 0, 1e-30, -1e-30];
  for (let k = 0; k < 255; k++) {
    const tie = Math.fround(((k + 0.5) / 255) * 2 - 1);
    values.push(tie, Math.fround(tie + 1e-7), Math.fround(tie - 1e-7));
  }
  const plane = values.length;
  const data = new Float32Array(3 * plane);
  data.set(values, 0);
  data.set(values.map((v) => -v), plane);
  data.set(values.map((v) => v / 3), 2 * plane);
  const [rgb] = vaeOutputToRgb(data, [1, 3, 1, plane]);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) assert.equal(rgb![p * 3 + c], numpyPixel(data[c * plane + p]!), `pixel ${p} channel ${c} (x = ${data[c * plane + p]})`);
  }
  assert.deepEqual([...rgb!.slice(0, 3)], [0, 255, 0], 'x = -3, 3, -1: clamped');
});

test('exact ties go to the even neighbour', () => {
  const data = new Float32Array(3);
  const [rgb] = vaeOutputToRgb(data, [1, 3, 1, 1]);
  assert.deepEqual([...rgb!], [128, 128, 128], 'x = 0 gives v = 0.5 and 127.5, a tie, rounded to 128');
});

test('a batch gives one image per row; a non-RGB output is refused', () => {
  const data = new Float32Array(2 * 3 * 4).fill(1);
  data.fill(-1, 12);
  const images = vaeOutputToRgb(data, [2, 3, 2, 2]);
  assert.deepEqual(images.map((i) => [...i]), [new Array(12).fill(255), new Array(12).fill(0)]);
  assert.throws(() => vaeOutputToRgb(new Float32Array(4), [1, 4, 1, 1]), /expected \[B, 3, H, W\]/);
});
